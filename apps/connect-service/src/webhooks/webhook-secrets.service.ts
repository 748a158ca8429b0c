import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { stripeConfig } from '@app/config';
import { STRIPE_CONNECTION, StripeConnection, StripeGateway } from '@app/stripe-gateway';

/**
 * The `whsec_` secrets the intake accepts: STRIPE_WEBHOOK_SECRET (account endpoint) and
 * STRIPE_CONNECT_WEBHOOK_SECRET (Connect endpoint), each a list for rotation, plus the secrets of endpoints this
 * process registered itself with the emulator. Each endpoint signs with its own secret (https://docs.stripe.com/webhooks#verify-events).
 */
@Injectable()
export class WebhookSecrets {
  private readonly logger = new Logger('Webhooks');
  private readonly configured: string[];
  private registered: string[] = [];
  private current: string[];

  constructor(
    @Inject(stripeConfig.KEY) stripe: ConfigType<typeof stripeConfig>,
    @Inject(STRIPE_CONNECTION) private readonly connection: StripeConnection,
    private readonly gateway: StripeGateway,
  ) {
    this.configured = [...stripe.webhookSecrets, ...stripe.connectWebhookSecrets];
    this.current = [...this.configured];
  }

  /** Every accepted secret; the same array until a registration adds one (the intake reads it per request). */
  all(): string[] {
    return this.current;
  }

  /**
   * The mode events must have: a live key (`sk_live_`, `rk_live_`) expects live events. Connect endpoints receive
   * both modes (https://docs.stripe.com/connect/webhooks), so the other mode is stored as `ignored`.
   */
  get livemode(): boolean {
    return /^(sk|rk)_live_/.test(this.connection.secretKey);
  }

  /**
   * Development and tests: registers one account endpoint and one Connect endpoint (all events) at
   * `<baseUrl>/connect/webhooks` with the Stripe the gateway talks to (the emulator) and accepts their secrets.
   * main.ts calls it after `listen` only when the emulator is in use; never point it at real Stripe.
   */
  async registerWithEmulator(baseUrl: string): Promise<{ url: string; secrets: string[] }> {
    const url = `${baseUrl.replace(/\/+$/, '')}/connect/webhooks`;
    const secrets: string[] = [];
    for (const connect of [false, true]) {
      const endpoint = await this.gateway.createWebhookEndpoint({
        url,
        enabled_events: ['*'],
        connect,
        description: connect ? 'connect-service (Connect events)' : 'connect-service (platform events)',
      });
      if (endpoint.secret) secrets.push(endpoint.secret);
    }
    this.registered = [...this.registered, ...secrets];
    this.current = [...this.configured, ...this.registered];
    this.logger.log(`Registered webhook endpoints at ${url} (platform and Connect)`);
    return { url, secrets };
  }
}
