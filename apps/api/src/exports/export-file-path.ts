/** Where an export's file downloads from; the path a download link signs. */
export const exportFilePath = (id: string, file: string): string =>
  `/exports/${encodeURIComponent(id)}/${encodeURIComponent(file)}`;
