export * from './roles';
export * from './training-input';
export * from './user-feedback';
export * from './rule-checks';
export * from './ctr-interval';
export * from './recommendation-id';
export * from './exposure';
export * from './attribution';
