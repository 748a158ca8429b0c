import { Injectable } from '@nestjs/common';
import { Db, one, rows, sql } from '@app/database';

export interface EventDestinationRow {
  id: string;
  stripe_destination_id: string;
  name: string;
  url: string;
  enabled_events: string[];
  status: string;
  secret_enc: string | null;
  created_at: Date;
  updated_at: Date;
}

/** event_destinations: the service's own Stripe event destinations, secrets sealed. */
@Injectable()
export class EventDestinationsRepository {
  async list(db: Db): Promise<EventDestinationRow[]> {
    return rows<EventDestinationRow>(db, sql`SELECT * FROM event_destinations ORDER BY created_at, id`);
  }

  /** Sealed secrets, newest first (rotation: every stored one verifies). */
  async sealedSecrets(
    db: Db,
  ): Promise<Array<{ id: string; stripe_destination_id: string; secret_enc: string }>> {
    return rows(
      db,
      sql`SELECT id, stripe_destination_id, secret_enc FROM event_destinations
           WHERE secret_enc IS NOT NULL ORDER BY created_at DESC`,
    );
  }

  /** Inserts or updates by Stripe's id; a null secret keeps the stored one (Stripe shows it only at creation). */
  async upsert(
    db: Db,
    d: Omit<EventDestinationRow, 'created_at' | 'updated_at'>,
  ): Promise<EventDestinationRow> {
    const row = await one<EventDestinationRow>(
      db,
      sql`INSERT INTO event_destinations (id, stripe_destination_id, name, url, enabled_events, status, secret_enc)
          VALUES (${d.id}::uuid, ${d.stripe_destination_id}, ${d.name}, ${d.url}, ${JSON.stringify(d.enabled_events)}::jsonb,
                  ${d.status}, ${d.secret_enc})
          ON CONFLICT (stripe_destination_id) DO UPDATE SET name = EXCLUDED.name, url = EXCLUDED.url,
            enabled_events = EXCLUDED.enabled_events, status = EXCLUDED.status,
            secret_enc = COALESCE(EXCLUDED.secret_enc, event_destinations.secret_enc), updated_at = now()
          RETURNING *`,
    );
    return row!;
  }
}
