export * from './currency-rules';
