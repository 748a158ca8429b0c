export * from './errors/error-codes';
export * from './errors/service-error';
export * from './errors/service-exception.filter';
export * from './errors/api-errors.decorator';
export * from './validation/validation.pipe';
export * from './crypto/secret-box';
export * from './crypto/crypto.module';
export * from './money';
