export * from './organizations';
export * from './users';
export * from './authors';
export * from './papers';
export * from './upvotes';
export * from './sessions';
export * from './search';
export * from './recommendations';
