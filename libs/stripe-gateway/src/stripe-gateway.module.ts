import { DynamicModule, FactoryProvider, Module, Provider } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ServiceException, ErrorCode } from '@app/common';
import { stripeConfig } from '@app/config';
import { StripeConnection, STRIPE_CONNECTION } from './stripe-connection';
import { StripeSdkGateway, StripeSdkGatewayOptions } from './stripe-sdk.gateway';
import { StripeGateway } from './stripe.gateway';

export interface StripeGatewayModuleOptions {
  /**
   * Provides STRIPE_CONNECTION. Default: STRIPE_SECRET_KEY and STRIPE_API_BASE from the config, and a refusal
   * to start without a key. The service passes its own provider that starts the emulator in development.
   */
  connectionProvider?: Provider<StripeConnection>;
  /** Resilience knobs (breaker threshold, bulkhead size...); timeoutMs and the client id come from config. */
  gatewayOptions?: Omit<StripeSdkGatewayOptions, 'timeoutMs' | 'connectClientId'>;
}

/** STRIPE_CONNECTION straight from configuration: a key is required. */
export const configuredStripeConnectionProvider: FactoryProvider<StripeConnection> = {
  provide: STRIPE_CONNECTION,
  inject: [stripeConfig.KEY],
  useFactory: (cfg: ConfigType<typeof stripeConfig>): StripeConnection => {
    if (!cfg.secretKey) {
      throw new ServiceException(
        ErrorCode.StripeRequestFailed,
        'STRIPE_SECRET_KEY is not set and no Stripe emulator was provided',
      );
    }
    return { secretKey: cfg.secretKey, apiBase: cfg.apiBase, emulated: false };
  },
};

/**
 * Binds the StripeGateway token to the SDK implementation. Needs the config namespaces loaded (AppConfigModule).
 * Configure it once in a module of the app that re-exports it (the service's StripeModule).
 */
@Module({})
export class StripeGatewayModule {
  static forRoot(options: StripeGatewayModuleOptions = {}): DynamicModule {
    const gatewayProvider: FactoryProvider<StripeGateway> = {
      provide: StripeGateway,
      inject: [STRIPE_CONNECTION, stripeConfig.KEY],
      useFactory: (connection: StripeConnection, cfg: ConfigType<typeof stripeConfig>) =>
        new StripeSdkGateway(connection, {
          ...options.gatewayOptions,
          timeoutMs: cfg.timeoutMs,
          connectClientId: cfg.connectClientId,
        }),
    };
    return {
      module: StripeGatewayModule,
      providers: [options.connectionProvider ?? configuredStripeConnectionProvider, gatewayProvider],
      exports: [StripeGateway, STRIPE_CONNECTION],
    };
  }
}
