import { AppliedEventMark, EventMark, isStaleEvent } from './event-ordering';

describe('isStaleEvent', () => {
  const cases: Array<[string, AppliedEventMark, EventMark, boolean]> = [
    ['nothing applied yet', { created: null, id: null }, { created: 100, id: 'evt_a' }, false],
    ['newer event', { created: 100, id: 'evt_a' }, { created: 101, id: 'evt_b' }, false],
    ['older event', { created: 100, id: 'evt_a' }, { created: 99, id: 'evt_b' }, true],
    ['much older event with a "larger" id', { created: 100, id: 'evt_a' }, { created: 1, id: 'evt_z' }, true],
    [
      'same second, other event (ids do not order)',
      { created: 100, id: 'evt_b' },
      { created: 100, id: 'evt_a' },
      false,
    ],
    [
      'same second, other event the other way round',
      { created: 100, id: 'evt_a' },
      { created: 100, id: 'evt_b' },
      false,
    ],
    [
      'the event applied last, again (replay / redelivery)',
      { created: 100, id: 'evt_a' },
      { created: 100, id: 'evt_a' },
      true,
    ],
    ['same second, last id unknown', { created: 100, id: null }, { created: 100, id: 'evt_a' }, false],
  ];

  it.each(cases)('%s', (_name, last, event, stale) => {
    expect(isStaleEvent(last, event)).toBe(stale);
  });
});
