import { InitialSchema1764130000000 } from './1764130000000-initial-schema';

/** In order. A new migration is added here and nowhere else. */
export const MIGRATIONS = [InitialSchema1764130000000];
