export * from './stripe.gateway';
export * from './stripe-gateway.types';
export * from './stripe-gateway.module';
export * from './stripe-connection';
export { StripeSdkGateway } from './stripe-sdk.gateway';
export type { StripeSdkGatewayOptions } from './stripe-sdk.gateway';
export type { WebhookRejectionReason } from './verify-stripe-webhook';
export type { StripeErrorDetails } from './map-stripe-error';
export * from './stripe-money.gateway';
