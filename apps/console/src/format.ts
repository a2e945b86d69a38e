const numbers = new Intl.NumberFormat('en');

export const count = (n: number | null | undefined): string => (n == null ? '–' : numbers.format(n));
export const metric = (n: number | null | undefined, digits = 4): string => (n == null ? '–' : n.toFixed(digits));
export const when = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '–';
export const bytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 ** 2).toFixed(1)} MB`;
/** A JSON value in one line, for attributes and configs. */
export const brief = (value: unknown): string => JSON.stringify(value) ?? String(value);
/** A value as text: strings as they are, anything else as JSON. */
export const text = (value: unknown): string => (typeof value === 'string' ? value : brief(value));
