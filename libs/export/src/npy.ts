/**
 * The .npy format (version 1.0), as numpy.save writes it: magic, header length, a Python dict
 * literal padded with spaces to a multiple of 64 bytes, then the raw little-endian data.
 * The header is given a fixed size so it can be rewritten in place once the row count is known.
 */
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00]); // \x93NUMPY v1.0
export const NPY_HEADER_BYTES = 128;

/** The header of a C-ordered float32 (rows, cols) array, exactly NPY_HEADER_BYTES long. */
export function npyFloat32Header(rows: number, cols: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const room = NPY_HEADER_BYTES - MAGIC.length - 2 - 1; // uint16 length, trailing newline
  if (dict.length > room) throw new RangeError(`shape (${rows}, ${cols}) does not fit the npy header`);
  const header = Buffer.alloc(NPY_HEADER_BYTES, 0x20);
  MAGIC.copy(header, 0);
  header.writeUInt16LE(NPY_HEADER_BYTES - MAGIC.length - 2, MAGIC.length);
  header.write(dict, MAGIC.length + 2, 'latin1');
  header[NPY_HEADER_BYTES - 1] = 0x0a;
  return header;
}
