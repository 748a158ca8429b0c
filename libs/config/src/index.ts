export * from './env';
export * from './namespaces';
export * from './config.module';
export * from './tracing';
