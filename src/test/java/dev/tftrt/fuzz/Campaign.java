package dev.tftrt.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A seeded run of many cases through one worker JVM at a time: each case is generated, run,
 * judged, and either deleted (OK) or kept as a reproducer under failures/VERDICT/ID with the
 * command that replays it. Writes results.jsonl (one line per case) and summary.json.
 */
public final class Campaign {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What to run. */
  public record Options(long seed, long first, int cases, long timeoutMs, Path dir, Path seedDir, List<String> targets,
      String heap, String classpath) {
    public static Options of(long seed, int cases, Path dir) {
      return new Options(seed, 0, cases, 30_000, dir, dir.resolveSibling("seeds"), List.of(), "2g",
          System.getProperty("java.class.path"));
    }
  }

  /** One case's outcome as the summary lists it. */
  public record Result(FuzzCase c, Verdict verdict, String reason, long ms, Path reproducer) {}

  /** Counts per verdict and per target, and every failure. */
  public record Summary(Map<Verdict, Integer> verdicts, Map<String, Map<Verdict, Integer>> byTarget,
      List<Result> failures, double seconds) {
    public int failuresOf(Verdict v) {
      return verdicts.getOrDefault(v, 0);
    }
  }

  private final Options o;
  private final PrintStream log;

  public Campaign(Options o, PrintStream log) {
    this.o = o;
    this.log = log;
  }

  public Summary run() {
    long t0 = System.nanoTime();
    try {
      Files.createDirectories(o.dir());
      Seeds seeds = Seeds.prepare(o.seedDir());
      CaseGenerator gen = new CaseGenerator(seeds, o.seed(), o.targets());
      Map<Verdict, Integer> verdicts = new EnumMap<>(Verdict.class);
      Map<String, Map<Verdict, Integer>> byTarget = new TreeMap<>();
      List<Result> failures = new ArrayList<>();
      Path results = o.dir().resolve("results.jsonl");
      Files.deleteIfExists(results);
      int restarts = 0;
      WorkerProcess w = startWorker(restarts++);
      try {
        for (long i = o.first(); i < o.first() + o.cases(); i++) {
          Path caseDir = o.dir().resolve("cases").resolve(String.format("c%06d", i));
          FuzzFiles.deleteTree(caseDir);
          FuzzCase c = gen.generate(i, caseDir);
          Judge.Before before = Judge.Before.of(caseDir, w.sandbox, w.tmp);
          WorkerProcess.Outcome out = w.run(c.id(), c.target(), c.resolvedArgs(caseDir), o.timeoutMs());
          Judge.Finding f = Judge.judge(c, caseDir, w.sandbox, w.tmp, before, out);
          long ms = out.result() == null ? -1 : out.result().path("ms").asLong();
          Path repro = null;
          if (f.verdict().failure()) {
            repro = saveReproducer(gen, c, f, out, caseDir);
            log.println(f.verdict() + " " + c.id() + " " + c.target() + " [" + c.recipe() + "] " + f.reason());
            log.println("  replay: " + Fuzz.replayCommand(repro));
          }
          FuzzFiles.deleteTree(caseDir);
          Result res = new Result(c, f.verdict(), f.reason(), ms, repro);
          if (f.verdict().failure()) failures.add(res);
          verdicts.merge(f.verdict(), 1, Integer::sum);
          byTarget.computeIfAbsent(c.target(), k -> new EnumMap<>(Verdict.class)).merge(f.verdict(), 1, Integer::sum);
          Files.writeString(results, JSON.writeValueAsString(line(res)) + "\n", StandardCharsets.UTF_8,
              StandardOpenOption.CREATE, StandardOpenOption.APPEND);
          if ((i - o.first() + 1) % 100 == 0) log.println("... " + (i - o.first() + 1) + " cases: " + verdicts);
          boolean clobbered = !Files.exists(w.sandbox.resolve(WorkerProcess.MARKER), LinkOption.NOFOLLOW_LINKS);
          if (!w.alive() || clobbered) {
            w.close();
            w = startWorker(restarts++);
          }
        }
      } finally {
        w.close();
        checkWorkerExit(w, verdicts, byTarget, failures);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      Summary s = new Summary(verdicts, byTarget, failures, seconds);
      writeSummary(s);
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private WorkerProcess startWorker(int n) {
    return new WorkerProcess(o.dir().resolve("worker"), o.classpath(), o.heap());
  }

  /**
   * A JVM that exited must leave its temp folder empty (ONNX Runtime's folder included): one
   * finding for the campaign's last worker, target "jvm-exit".
   */
  private void checkWorkerExit(WorkerProcess w, Map<Verdict, Integer> verdicts, Map<String, Map<Verdict, Integer>> byTarget,
      List<Result> failures) {
    if (w.alive()) return;
    Map<String, String> left = FuzzFiles.snapshot(w.tmp);
    left.remove("");
    if (left.isEmpty()) return;
    FuzzCase c = new FuzzCase("jvm-exit", o.seed(), -1, "jvm-exit", "jvm-exit", List.of(), List.of(), "a worker JVM exited");
    String reason = "the temp folder holds after exit: " + left.keySet();
    log.println("LEFTOVER jvm-exit " + reason);
    failures.add(new Result(c, Verdict.LEFTOVER, reason, 0, null));
    verdicts.merge(Verdict.LEFTOVER, 1, Integer::sum);
    byTarget.computeIfAbsent("jvm-exit", k -> new EnumMap<>(Verdict.class)).merge(Verdict.LEFTOVER, 1, Integer::sum);
  }

  /** The case regenerated (its inputs as they were before it ran) with case.json and result.json. */
  private Path saveReproducer(CaseGenerator gen, FuzzCase c, Judge.Finding f, WorkerProcess.Outcome out, Path ran)
      throws IOException {
    Path dir = o.dir().resolve("failures").resolve(f.verdict().name()).resolve(c.id());
    FuzzFiles.deleteTree(dir);
    gen.generate(c.index(), dir);
    Reproducer.writeCase(dir, c);
    ObjectNode r = JSON.createObjectNode();
    r.put("verdict", f.verdict().name());
    r.put("reason", f.reason());
    if (out.result() != null) r.set("worker", out.result());
    r.put("nativeStderr", out.stderrTail());
    Files.writeString(dir.resolve("result.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
    return dir;
  }

  private static ObjectNode line(Result r) {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", r.c().id());
    n.put("recipe", r.c().recipe());
    n.put("target", r.c().target());
    n.put("verdict", r.verdict().name());
    n.put("reason", r.reason());
    n.put("ms", r.ms());
    n.put("mutation", r.c().mutation());
    return n;
  }

  private void writeSummary(Summary s) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("seed", o.seed());
    n.put("first", o.first());
    n.put("cases", o.cases());
    n.put("seconds", Math.round(s.seconds() * 10) / 10.0);
    n.set("verdicts", JSON.valueToTree(s.verdicts()));
    n.set("byTarget", JSON.valueToTree(s.byTarget()));
    Map<String, List<Result>> groups = groups(s.failures());
    ArrayNode g = n.putArray("groups");
    for (var e : groups.entrySet()) {
      ObjectNode x = g.addObject();
      x.put("signature", e.getKey());
      x.put("count", e.getValue().size());
      Result first = e.getValue().get(0);
      x.put("example", first.c().id() + " " + first.c().target() + " [" + first.c().recipe() + "] " + first.reason());
      if (first.reproducer() != null) x.put("replay", Fuzz.replayCommand(first.reproducer()));
    }
    Files.writeString(o.dir().resolve("summary.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
  }

  /** Failures grouped by verdict, target and their reason with paths and numbers taken out. */
  static Map<String, List<Result>> groups(List<Result> failures) {
    Map<String, List<Result>> m = new LinkedHashMap<>();
    for (Result r : failures) m.computeIfAbsent(signature(r), k -> new ArrayList<>()).add(r);
    return m;
  }

  static String signature(Result r) {
    String reason = r.reason().replaceAll("/[^\\s:,'\\]]+", "PATH").replaceAll("'[^']*'", "'X'")
        .replaceAll("\\d+", "N");
    if (reason.length() > 140) reason = reason.substring(0, 140);
    return r.verdict() + " " + r.c().target() + ": " + reason;
  }
}
