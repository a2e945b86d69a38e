/** One user's answers in an arm: items shown, and how many of them they clicked. */
export interface UserClicks {
  shown: number;
  clicks: number;
}

export interface ArmCtr {
  users: number;
  shown: number;
  clicks: number;
  /** clicks / shown. */
  ctr: number;
  /** Its standard error, with the user as the unit (a user's clicks are not independent of each other). */
  se: number;
}

/** 95% two-sided normal quantile. */
const Z95 = 1.959964;

/**
 * An arm's CTR and its standard error as a ratio estimator over users (the delta method, users
 * independent, items within a user not): var = n/(n-1) * sum((c_u - ctr * s_u)^2) / (sum s)^2.
 * Treating every item shown as independent would understate it.
 */
export function armCtr(users: readonly UserClicks[]): ArmCtr {
  const shown = users.reduce((a, u) => a + u.shown, 0);
  const clicks = users.reduce((a, u) => a + u.clicks, 0);
  const n = users.length;
  if (shown === 0) return { users: n, shown, clicks, ctr: 0, se: NaN };
  const ctr = clicks / shown;
  const residuals = users.reduce((a, u) => a + (u.clicks - ctr * u.shown) ** 2, 0);
  const se = n > 1 ? Math.sqrt((n / (n - 1)) * residuals) / shown : NaN;
  return { users: n, shown, clicks, ctr, se };
}

/** `a`'s CTR minus `b`'s, with its 95% interval (the arms' users are disjoint, so independent). */
export function ctrDifference(a: ArmCtr, b: ArmCtr): { difference: number; low: number; high: number } {
  const difference = a.ctr - b.ctr;
  const half = Z95 * Math.sqrt(a.se ** 2 + b.se ** 2);
  return { difference, low: difference - half, high: difference + half };
}
