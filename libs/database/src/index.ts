export * from './entities';
export * from './migrations';
export * from './data-source-options';
export * from './database.module';
export * from './embedded-postgres';
export * from './migrate';
export * from './after-commit';
export * from './prepared-query';
