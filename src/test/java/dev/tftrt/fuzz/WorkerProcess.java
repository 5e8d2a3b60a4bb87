package dev.tftrt.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The parent's handle on one worker JVM: its own current folder (sandbox) and temp folder, so
 * what a case leaves there is seen; stderr goes to a log whose tail explains an abort.
 */
final class WorkerProcess implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The marker in the sandbox: a case that deletes the current folder deletes it too. */
  static final String MARKER = "user-file.txt";

  final Path home;
  final Path sandbox;
  final Path tmp;
  final Path log;
  private final Process process;
  private final Writer stdin;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

  /** What happened to a case at the process level. */
  record Outcome(JsonNode result, boolean died, int exitCode, boolean timedOut, String stderrTail) {}

  WorkerProcess(Path home, String classpath, String heap) {
    this.home = home;
    this.sandbox = home.resolve("cwd");
    this.tmp = home.resolve("tmp");
    this.log = home.resolve("stderr.log");
    try {
      FuzzFiles.deleteTree(home);
      Files.createDirectories(sandbox);
      Files.createDirectories(tmp);
      Files.writeString(sandbox.resolve(MARKER), "a file the tool did not write\n");
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx" + heap, "-Xss1m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
          "-Djava.io.tmpdir=" + tmp.toAbsolutePath(), "-cp", absolute(classpath), Worker.class.getName()));
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(sandbox.toFile())
          .redirectError(log.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
      pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
      pb.environment().put("TMPDIR", tmp.toAbsolutePath().toString());
      process = pb.start();
      stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          for (String l; (l = r.readLine()) != null; ) if (l.startsWith(Worker.PREFIX)) lines.add(l.substring(Worker.PREFIX.length()));
        } catch (IOException e) {
          // the worker died; the process's exit code tells
        }
        lines.add("EOF");
      }, "fuzz-worker-reader");
      reader.setDaemon(true);
      reader.start();
      String ready = lines.poll(120, TimeUnit.SECONDS);
      if (ready == null || ready.equals("EOF")) throw new IllegalStateException("the fuzz worker did not start: " + tail(0));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The worker runs in its sandbox, so relative class path entries are made absolute. */
  private static String absolute(String classpath) {
    return String.join(java.io.File.pathSeparator, java.util.Arrays.stream(classpath.split(java.io.File.pathSeparator))
        .map(e -> e.isEmpty() ? e : Path.of(e).toAbsolutePath().toString()).toList());
  }

  Outcome run(String id, String target, List<String> args, long timeoutMs) {
    long logStart = logSize();
    ObjectNode c = JSON.createObjectNode();
    c.put("id", id);
    c.put("target", target);
    c.set("args", JSON.valueToTree(args));
    try {
      stdin.write(JSON.writeValueAsString(c) + "\n");
      stdin.flush();
    } catch (IOException e) {
      return died(logStart);
    }
    long start = System.currentTimeMillis();
    long cpuStart = cpuMillis();
    // On a shared machine wall time says little: a case is cut when it has used timeoutMs of CPU,
    // when it has sat blocked (under 5% of a core for a while) past timeoutMs, or at four times timeoutMs.
    long idleWindow = Math.min(10_000, timeoutMs);
    java.util.ArrayDeque<long[]> samples = new java.util.ArrayDeque<>();
    try {
      while (true) {
        String l = lines.poll(250, TimeUnit.MILLISECONDS);
        if (l != null) {
          if (l.equals("EOF")) return died(logStart);
          JsonNode r = JSON.readTree(l);
          if (id.equals(r.path("id").asText())) return new Outcome(r, false, 0, false, tail(logStart));
          continue;
        }
        long now = System.currentTimeMillis();
        long cpu = cpuMillis();
        samples.addLast(new long[] {now, cpu});
        while (samples.size() > 1 && samples.peekFirst()[0] < now - idleWindow) samples.removeFirst();
        long[] oldest = samples.peekFirst();
        boolean blocked = now - start > timeoutMs && now - oldest[0] >= idleWindow - 500
            && cpu - oldest[1] < (now - oldest[0]) / 20;
        String why = cpu - cpuStart > timeoutMs ? "used " + (cpu - cpuStart) / 1000 + " s of CPU"
            : blocked ? "blocked (under 5% CPU for " + idleWindow / 1000 + " s) after " + (now - start) / 1000 + " s"
            : now - start > 4 * timeoutMs ? "no answer in " + (now - start) / 1000 + " s" : null;
        if (why != null) {
          process.destroyForcibly();
          process.waitFor(30, TimeUnit.SECONDS);
          return new Outcome(null, false, -1, true, why + "\n" + tail(logStart));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The worker's user + system CPU time from /proc (clock ticks of 10 ms), 0 where /proc is absent. */
  private long cpuMillis() {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private Outcome died(long logStart) {
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    int code = process.isAlive() ? -1 : process.exitValue();
    return new Outcome(null, true, code, false, tail(logStart));
  }

  boolean alive() {
    return process.isAlive();
  }

  private long logSize() {
    try {
      return Files.size(log);
    } catch (IOException e) {
      return 0;
    }
  }

  /** The worker's stderr since a case began (TensorFlow's fatal line is there), at most 4000 chars. */
  String tail(long from) {
    try {
      byte[] b = Files.readAllBytes(log);
      int start = (int) Math.max(from, b.length - 4000L);
      return new String(b, Math.min(start, b.length), b.length - Math.min(start, b.length), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** Asks the worker to exit and waits: its temp folder must then be empty. */
  @Override
  public void close() {
    if (process.isAlive()) {
      try {
        stdin.write("EXIT\n");
        stdin.flush();
        if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (IOException e) {
        process.destroyForcibly();
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
