"""When the server freezes the heap: by the clock, and after a wave of connections."""

from apps.operations.gctracker import FreezeSchedule


def test_without_new_connections_it_freezes_by_the_interval_only():
    schedule = FreezeSchedule(interval=60, after_connections=200, now=0)

    checks = [schedule.due(now, connections=150) for now in (2, 30, 58)]

    assert checks == [False, False, False]
    assert schedule.due(60, connections=150)
    assert not schedule.due(62, connections=150)


def test_a_wave_is_frozen_once_it_has_settled_not_while_it_grows():
    schedule = FreezeSchedule(interval=60, after_connections=200, now=0)

    # 1,750 stations connect, 350 per check, then no more come
    during_the_wave = [schedule.due(t, connections=350 * t) for t in range(1, 6)]
    settled = schedule.due(6, connections=1_750)
    again = schedule.due(8, connections=1_750)

    assert during_the_wave == [False] * 5
    assert settled
    assert not again  # the wave is frozen; the next freeze is the interval's


def test_a_trickle_of_connections_freezes_when_enough_have_joined():
    schedule = FreezeSchedule(interval=600, after_connections=200, now=0)

    dues = [schedule.due(t, connections=t * 10) for t in range(1, 41)]

    # one freeze per 200 new stations, at 10 per check
    assert [t for t, due in zip(range(1, 41), dues, strict=True) if due] == [20, 40]


def test_zero_after_connections_means_by_the_interval_only():
    schedule = FreezeSchedule(interval=60, after_connections=0, now=0)

    assert not schedule.due(2, connections=5_000)
    assert not schedule.due(4, connections=5_000)
    assert schedule.due(60, connections=5_000)
