"""A short soak (soak.py; scripts/soak runs long ones): a mixed load of
items, batches, transactions, TTL, a GSI and failing triggers, SIGKILLed at
random moments, with every check after every restart. Then proof that the
checks catch what they are for: a write the soak never made, and an
acknowledged write that left no record.

EDDY_SOAK_CYCLES sets the cycle count (default 10), EDDY_TEST_SEED the seed.
"""

import os
import sys
import time
import unittest

from soak import TABLE_A, Soak, SoakFailure  # noqa: I001 (sets sys.path)

CYCLES = int(os.environ.get("EDDY_SOAK_CYCLES", "10"))


def seed():
    return int(os.environ.get("EDDY_TEST_SEED", time.time_ns() % 1_000_000))


class SoakIntegrationTest(unittest.TestCase):

    def test_short_soak(self):
        soak = Soak(cycles=CYCLES, seed=seed(),
                    log=lambda text: print(text, file=sys.stderr, flush=True))
        summary = soak.run()
        print(summary, file=sys.stderr)
        self.assertEqual(soak.cycle, CYCLES)
        self.assertTrue(soak.views[TABLE_A].expired, "TTL never removed an item")
        self.assertTrue(any(soak.dead.values()), "no record was dead-lettered")

    def soak_after_one_cycle(self):
        soak = Soak(cycles=1, seed=seed(), log=lambda text: None)
        soak.start()
        self.addCleanup(soak.stop)
        soak.cycle = 1
        soak.one_cycle()
        return soak

    def test_catches_a_write_never_sent(self):
        soak = self.soak_after_one_cycle()
        soak.ddb.put_item(TableName=TABLE_A, Item={"p": {"S": "intruder"},
                                                   "w": {"S": "not-in-the-ledger"}})
        with self.assertRaisesRegex(SoakFailure, "never sent"):
            soak.check_all()

    def test_catches_an_acknowledged_write_without_a_record(self):
        soak = self.soak_after_one_cycle()
        refused = [w for w, write in soak.ledger.by_w.items() if write.status == "refused"]
        if not refused:
            # Every cycle refuses some conditional writes; make sure of one.
            key = next(k for k in soak.ledger.by_key if k[0] == TABLE_A)
            write = soak.ledger.add(key, "never-applied")
            write.status = "refused"
            refused = ["never-applied"]
        soak.ledger.by_w[refused[0]].status = "acked"
        with self.assertRaisesRegex(SoakFailure, "has no record"):
            soak.check_all()


if __name__ == "__main__":
    unittest.main()
