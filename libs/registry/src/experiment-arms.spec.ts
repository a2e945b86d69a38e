import { experimentPoint, inCanaryArm } from './experiment-arms';

describe('experiment arms', () => {
  const users = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

  it('sends about the traffic share of users to the canary', () => {
    const share = users.filter((u) => inCanaryArm('salt-a', 0.1, u)).length / users.length;
    // 20,000 draws: the binomial standard error at 0.1 is 0.0021
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
  });

  it('gives a user the same point every time, and another under another salt', () => {
    expect(experimentPoint('salt-a', 'alice')).toBe(experimentPoint('salt-a', 'alice'));
    const moved = users.filter((u) => inCanaryArm('salt-a', 0.5, u) !== inCanaryArm('salt-b', 0.5, u)).length;
    // independent draws disagree for half the users
    expect(moved / users.length).toBeGreaterThan(0.45);
    expect(moved / users.length).toBeLessThan(0.55);
  });

  it('keeps the canary arm nested as traffic grows: raising it only adds users', () => {
    const small = users.filter((u) => inCanaryArm('s', 0.1, u));
    expect(small.every((u) => inCanaryArm('s', 0.3, u))).toBe(true);
  });

  it('does not confuse where the salt ends and the id begins', () => {
    expect(experimentPoint('ab', 'c')).not.toBe(experimentPoint('a', 'bc'));
  });
});
