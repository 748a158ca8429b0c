/**
 * Request examples Swagger UI sends as they are: they run against a fresh development service once the quick
 * start connected `tenant_acme` (the emulator charges `pm_card_visa` when the payment is confirmed).
 */
export const CREATE_PAYMENT_EXAMPLES = {
  card: {
    summary: '$20.00 by card to tenant_acme, confirmed at once (direct charge, the platform fee applies)',
    value: {
      tenant_id: 'tenant_acme',
      payment_data: {
        amount: 2000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        description: 'Order #1042',
        metadata: { order_id: '1042' },
      },
    },
  },
  destination: {
    summary: '€45.00 as a destination charge on the platform, transferred to tenant_acme',
    value: {
      tenant_id: 'tenant_acme',
      payment_data: {
        amount: 4500,
        currency: 'eur',
        charge_type: 'destination',
        payment_method: 'pm_card_visa',
        confirm: true,
      },
    },
  },
};

export const CREATE_REFUND_EXAMPLES = {
  partial: {
    summary: 'Refund $5.00 of the payment',
    value: { amount: 500, reason: 'requested_by_customer', metadata: { ticket: 'T-1' } },
  },
};

export const CREATE_SUBSCRIPTION_EXAMPLES = {
  monthly: {
    summary:
      "A price and a customer of the tenant's Stripe account (create them there first), 10.5 % platform fee",
    value: {
      tenant_id: 'tenant_acme',
      customer: 'cus_NffrFeUfNV2Hib',
      price: 'price_1PqRsTuVwXyZ0123',
      application_fee_percent: 10.5,
      default_payment_method: 'pm_card_visa',
    },
  },
};
