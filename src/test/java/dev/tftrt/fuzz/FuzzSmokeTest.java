package dev.tftrt.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A short seeded campaign (300 cases, about a minute on two cores) over every recipe and
 * target. It fails on any case that aborts the JVM, hangs, lets an Error escape, destroys or
 * leaves files, or calls bad input an internal error.

 */
class FuzzSmokeTest {
  static final Set<Verdict> FATAL = EnumSet.of(Verdict.ABORT, Verdict.HANG, Verdict.ERROR, Verdict.CLOBBER,
      Verdict.LEFTOVER, Verdict.INTERNAL);

  @Test
  @DisplayName("300 seeded cases: no abort, hang, Error, destroyed or leftover file, or internal error")
  void shortCampaign() {
    Path dir = Path.of("target", "fuzz", "smoke");
    Campaign.Options o = new Campaign.Options(1, 0, 300, 60_000, dir, Path.of("target", "fuzz", "seeds"), List.of(),
        "2g", System.getProperty("java.class.path"));
    Campaign.Summary s = new Campaign(o, System.out).run();
    List<Campaign.Result> fatal = s.failures().stream().filter(r -> FATAL.contains(r.verdict())).toList();
    String groups = Campaign.groups(fatal).entrySet().stream()
        .map(e -> e.getValue().size() + "x " + e.getKey() + "\n    "
            + (e.getValue().get(0).reproducer() == null ? e.getValue().get(0).reason()
                : Fuzz.replayCommand(e.getValue().get(0).reproducer())))
        .collect(Collectors.joining("\n"));
    assertTrue(fatal.isEmpty(), fatal.size() + " of 300 cases failed (" + s.verdicts() + "):\n" + groups);
  }
}
