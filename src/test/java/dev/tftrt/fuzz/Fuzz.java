package dev.tftrt.fuzz;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The fuzzing harness's command line. A campaign:
 * <pre>
 * java -cp "target/test-classes:target/classes:target/lib/*" dev.tftrt.fuzz.Fuzz --cases 5000 --seed 1
 * </pre>
 * options: --first N (start at case N; a long run splits into processes this way), --timeout SECONDS
 * (per case, default 30: of CPU time, or of waiting blocked; at most four times that of wall time),
 * --dir DIR
 * (default target/fuzz/run-SEED), --targets freeze,convert,... , --heap 2g. Replaying one saved
 * case: {@code dev.tftrt.fuzz.Fuzz --replay target/fuzz/run-1/failures/ABORT/c000123}; every case under
 * a folder, in one worker: {@code --replay-all target/fuzz/run-1/failures}.
 * Exit 0 when every case is OK, 1 otherwise.
 */
public final class Fuzz {
  private Fuzz() {}

  static final String CLASSPATH = "target/test-classes:target/classes:target/lib/*";

  public static void main(String[] argv) {
    Map<String, String> a = options(argv);
    if (a.containsKey("replay-all")) {
      System.exit(replayAll(Path.of(a.get("replay-all")), Path.of(a.getOrDefault("dir", "target/fuzz/replay")),
          Long.parseLong(a.getOrDefault("timeout", "30")) * 1000) ? 0 : 1);
    }
    if (a.containsKey("replay")) {
      Judge.Finding f = replay(Path.of(a.get("replay")), Path.of(a.getOrDefault("dir", "target/fuzz/replay")),
          Long.parseLong(a.getOrDefault("timeout", "30")) * 1000, true);
      System.exit(f.verdict().failure() ? 1 : 0);
    }
    long seed = Long.parseLong(a.getOrDefault("seed", "1"));
    Path dir = Path.of(a.getOrDefault("dir", "target/fuzz/run-" + seed));
    Campaign.Options o = new Campaign.Options(seed, Long.parseLong(a.getOrDefault("first", "0")),
        Integer.parseInt(a.getOrDefault("cases", "1000")), Long.parseLong(a.getOrDefault("timeout", "30")) * 1000, dir,
        Path.of(a.getOrDefault("seeds", "target/fuzz/seeds")),
        a.containsKey("targets") ? Arrays.asList(a.get("targets").split(",")) : List.of(), a.getOrDefault("heap", "2g"),
        System.getProperty("java.class.path"));
    Campaign.Summary s = new Campaign(o, System.out).run();
    print(s, dir);
    System.exit(s.failures().isEmpty() ? 0 : 1);
  }

  static void print(Campaign.Summary s, Path dir) {
    System.out.printf("%n%d cases in %.0f s: %s%n", s.verdicts().values().stream().mapToInt(Integer::intValue).sum(),
        s.seconds(), s.verdicts());
    s.byTarget().forEach((t, v) -> System.out.printf("  %-12s %s%n", t, v));
    var groups = Campaign.groups(s.failures());
    if (!groups.isEmpty()) System.out.println("failure groups:");
    groups.forEach((sig, rs) -> System.out.printf("  %4d  %s%n        e.g. %s%n", rs.size(), sig,
        rs.get(0).reproducer() == null ? rs.get(0).reason() : replayCommand(rs.get(0).reproducer())));
    System.out.println("summary: " + dir.resolve("summary.json"));
  }

  /** The one-line command that replays a saved case from the project directory. */
  static String replayCommand(Path reproducer) {
    return "java -cp \"" + CLASSPATH + "\" " + Fuzz.class.getName() + " --replay " + reproducer;
  }

  /** Runs a saved case in a fresh worker; prints what happened when verbose. */
  public static Judge.Finding replay(Path reproducer, Path work, long timeoutMs, boolean verbose) {
    FuzzCase c = Reproducer.read(reproducer);
    try (WorkerProcess w = new WorkerProcess(work.resolve("worker"), System.getProperty("java.class.path"), "2g")) {
      return replay(reproducer, c, work.resolve("case"), w, timeoutMs, verbose);
    }
  }

  static Judge.Finding replay(Path reproducer, FuzzCase c, Path caseDir, WorkerProcess w, long timeoutMs, boolean verbose) {
    Reproducer.materialize(reproducer, caseDir);
    Judge.Before before = Judge.Before.of(caseDir, w.sandbox, w.tmp);
    List<String> args = c.resolvedArgs(caseDir);
    WorkerProcess.Outcome out = w.run(c.id(), c.target(), args, timeoutMs);
    Judge.Finding f = Judge.judge(c, caseDir, w.sandbox, w.tmp, before, out);
    if (verbose) {
      System.out.println("case " + c.id() + " (" + c.recipe() + ": " + c.mutation() + ")");
      System.out.println("  " + c.target() + " " + String.join(" ", args));
      System.out.println(f.verdict() + ": " + f.reason());
      if (out.result() != null) System.out.print(out.result().path("err").asText() + out.result().path("trace").asText());
      if (!out.stderrTail().isBlank()) System.out.println("--- worker stderr:\n" + out.stderrTail());
    }
    FuzzFiles.deleteTree(caseDir);
    return f;
  }

  /**
   * Replays every saved case under root (a failures folder, or the regression corpus) in one
   * worker, replaced when a case kills it; prints one line per case. True when all are OK.
   */
  static boolean replayAll(Path root, Path work, long timeoutMs) {
    List<Path> cases;
    try (var s = java.nio.file.Files.walk(root)) {
      cases = s.filter(p -> p.getFileName().toString().equals("case.json")).map(Path::getParent).sorted().toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Map<Verdict, Integer> counts = new java.util.EnumMap<>(Verdict.class);
    WorkerProcess w = null;
    try {
      for (Path dir : cases) {
        if (w == null || !w.alive()) {
          if (w != null) w.close();
          w = new WorkerProcess(work.resolve("worker"), System.getProperty("java.class.path"), "2g");
        }
        Judge.Finding f = replay(dir, Reproducer.read(dir), work.resolve("case"), w, timeoutMs, false);
        counts.merge(f.verdict(), 1, Integer::sum);
        System.out.println(f.verdict() + " " + dir + ": " + f.reason());
      }
    } finally {
      if (w != null) w.close();
    }
    System.out.println(cases.size() + " cases replayed: " + counts);
    return counts.keySet().stream().noneMatch(Verdict::failure);
  }

  private static Map<String, String> options(String[] argv) {
    Map<String, String> m = new java.util.HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
        System.err.println("fuzz: options are --cases N --seed S --first N --timeout S --dir D --targets a,b --replay DIR --replay-all DIR");
        System.exit(2);
      }
      m.put(argv[i].substring(2), argv[++i]);
    }
    return m;
  }
}
