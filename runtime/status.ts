/**
 * What a kernel's status word means, on every target: 0 for success, 1 + the index of a tensor
 * argument that an unmasked access went outside of, -1 for a loop whose step is not positive, -2 when
 * the CPU could not allocate the tiles of a block.
 */
/** A readable message for a status; `argNames` (the kernel's arguments in order) makes it name the tensor. */
export function statusMessage(status: number, argNames: readonly string[] = []): string {
  if (status === 0) return 'ok';
  if (status === -1) return 'a loop has a non-positive step';
  if (status === -2) return 'out of memory for the tiles of a block';
  if (status === -3) return 'a dot of packed codes took its tile path (a C build with -DTSKC_CHECK_PACKED_DOT, for tests)';
  if (status > 0) {
    const name = argNames[status - 1];
    return `an unmasked access went outside tensor argument ${status - 1}${name === undefined ? '' : ` (${name})`}`;
  }
  return `unknown kernel status ${status}`;
}
