import { Test } from '@nestjs/testing';
import { ConfigModule } from '@nestjs/config';
import { stripeConfig } from '@app/config';
import { STRIPE_CONNECTION, StripeConnection } from './stripe-connection';
import { StripeGatewayModule } from './stripe-gateway.module';
import { StripeSdkGateway } from './stripe-sdk.gateway';
import { StripeGateway } from './stripe.gateway';

describe('StripeGatewayModule', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  const compile = (options?: Parameters<typeof StripeGatewayModule.forRoot>[0]) =>
    Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [stripeConfig] }),
        StripeGatewayModule.forRoot(options),
      ],
    }).compile();

  it('binds StripeGateway to the SDK gateway built from STRIPE_SECRET_KEY and STRIPE_API_BASE', async () => {
    process.env.STRIPE_SECRET_KEY = 'sk_test_module_spec';
    process.env.STRIPE_API_BASE = 'http://127.0.0.1:12999';
    process.env.STRIPE_CONNECT_CLIENT_ID = 'ca_module_spec';
    const moduleRef = await compile();
    const gateway = moduleRef.get(StripeGateway);
    expect(gateway).toBeInstanceOf(StripeSdkGateway);
    expect(moduleRef.get<StripeConnection>(STRIPE_CONNECTION)).toEqual({
      secretKey: 'sk_test_module_spec',
      apiBase: 'http://127.0.0.1:12999',
      emulated: false,
    });
    const url = new URL(gateway.oauthAuthorizeUrl({ state: 's' }));
    expect(url.origin).toBe('http://127.0.0.1:12999');
    expect(url.searchParams.get('client_id')).toBe('ca_module_spec');
    // The key never shows when the gateway is inspected or serialised (e.g. by a logger).
    const { inspect } = await import('node:util');
    expect(inspect(gateway, { depth: 5 })).not.toContain('sk_test_module_spec');
    expect(JSON.stringify(gateway)).not.toContain('sk_test_module_spec');
    await moduleRef.close();
  });

  it('refuses to build without a key when no connection provider is given', async () => {
    delete process.env.STRIPE_SECRET_KEY;
    await expect(compile()).rejects.toThrow(/STRIPE_SECRET_KEY/);
  });

  it('uses the connection provider it is given', async () => {
    delete process.env.STRIPE_SECRET_KEY;
    const moduleRef = await compile({
      connectionProvider: {
        provide: STRIPE_CONNECTION,
        useValue: { secretKey: 'sk_test_emulator', apiBase: 'http://127.0.0.1:4242', emulated: true },
      },
    });
    const gateway = moduleRef.get(StripeGateway);
    // Emulated: a client id is not needed, the emulator accepts a placeholder.
    expect(new URL(gateway.oauthAuthorizeUrl({ state: 's' })).searchParams.get('client_id')).toBe(
      'ca_emulator',
    );
    expect(gateway.circuitStates()).toEqual({
      oauth: 'closed',
      accounts: 'closed',
      payments: 'closed',
      refunds: 'closed',
      billing: 'closed',
      events: 'closed',
      reporting: 'closed',
      webhooks: 'closed',
    });
    await moduleRef.close();
  });
});
