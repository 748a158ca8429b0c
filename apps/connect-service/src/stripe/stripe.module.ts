import { Module } from '@nestjs/common';
import { StripeGatewayModule } from '@app/stripe-gateway';
import { stripeConnectionProvider } from './stripe-connection.provider';

/**
 * StripeGateway and STRIPE_CONNECTION for the service (the emulator in development): feature modules that call
 * Stripe import StripeModule, which configures the gateway once.
 */
@Module({
  imports: [StripeGatewayModule.forRoot({ connectionProvider: stripeConnectionProvider })],
  exports: [StripeGatewayModule],
})
export class StripeModule {}
