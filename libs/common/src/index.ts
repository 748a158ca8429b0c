export * from './errors/error-codes';
export * from './errors/service-error';
export * from './errors/service-exception.filter';
export * from './errors/api-errors.decorator';
export * from './validation/validation.pipe';
