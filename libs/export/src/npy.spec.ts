import { NPY_HEADER_BYTES, npyFloat32Header } from './npy';

describe(npyFloat32Header.name, () => {
  it('writes the numpy 1.0 header numpy.save would, padded to a fixed size', () => {
    const header = npyFloat32Header(100_000, 200);
    expect(header.length).toBe(NPY_HEADER_BYTES);
    expect(header.subarray(0, 8)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]));
    expect(header.readUInt16LE(8)).toBe(NPY_HEADER_BYTES - 10);
    expect(header.toString('latin1', 10).trimEnd()).toBe(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 200), }",
    );
    expect(header[NPY_HEADER_BYTES - 1]).toBe(0x0a);
    // numpy requires the data to start 64-byte aligned
    expect(NPY_HEADER_BYTES % 64).toBe(0);
  });
});
