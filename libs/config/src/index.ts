export * from './env';
export * from './namespaces';
export * from './config.module';
export * from './tracing';
export * from './accounts-v2.config';
