import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { serviceConfig, stripeConfig } from '@app/config';
import { STRIPE_CONNECTION, StripeConnection, StripeGateway, StripeGatewayModule } from '@app/stripe-gateway';
import { stripeConnectionProvider } from '../../apps/connect-service/src/stripe/stripe-connection.provider';

/** The service's STRIPE_CONNECTION: the in-process emulator when no key is configured. */
describe('stripeConnectionProvider', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  const compile = () =>
    Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [stripeConfig, serviceConfig] }),
        StripeGatewayModule.forRoot({ connectionProvider: stripeConnectionProvider }),
      ],
    }).compile();

  it('starts the emulator without STRIPE_SECRET_KEY, serves the gateway from it, and stops it with the app', async () => {
    delete process.env.STRIPE_SECRET_KEY;
    delete process.env.STRIPE_API_BASE;
    process.env.STRIPE_EMULATOR_PORT = '0';
    process.env.NODE_ENV = 'development';
    const moduleRef = await compile();
    const connection = moduleRef.get<StripeConnection>(STRIPE_CONNECTION);
    expect(connection).toMatchObject({ emulated: true, secretKey: 'sk_test_emulator' });
    expect(connection.apiBase).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const gateway = moduleRef.get(StripeGateway);
    const customer = await gateway.createCustomer({ email: 'dev@b.example' });
    expect(customer.id).toMatch(/^cus_/);
    expect(
      gateway.oauthAuthorizeUrl({ state: 's' }).startsWith(`${connection.apiBase}/oauth/authorize?`),
    ).toBe(true);

    await moduleRef.close();
    await expect(fetch(`${connection.apiBase}/_emulator/health`)).rejects.toThrow();
  });

  it('uses STRIPE_SECRET_KEY and STRIPE_API_BASE when set, starting nothing', async () => {
    process.env.STRIPE_SECRET_KEY = 'sk_test_configured_key';
    process.env.STRIPE_API_BASE = 'http://127.0.0.1:9';
    const moduleRef = await compile();
    expect(moduleRef.get(STRIPE_CONNECTION)).toEqual({
      secretKey: 'sk_test_configured_key',
      apiBase: 'http://127.0.0.1:9',
      emulated: false,
    });
    await moduleRef.close();
  });

  it('refuses to emulate Stripe in production', async () => {
    delete process.env.STRIPE_SECRET_KEY;
    process.env.NODE_ENV = 'production';
    await expect(compile()).rejects.toThrow(/STRIPE_SECRET_KEY is required in production/);
  });
});
