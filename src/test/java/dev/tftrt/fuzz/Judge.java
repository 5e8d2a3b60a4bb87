package dev.tftrt.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Classifies a finished case from what the worker answered and what changed on disk. */
final class Judge {
  private Judge() {}

  private static final Pattern ERROR = Pattern.compile("\\bjava\\.lang\\.\\w*Error\\b|Exception in thread");
  private static final Pattern TRACE = Pattern.compile("(?m)^\\s+at [\\w$.<>/]+\\(.*\\)$|^Caused by: ");
  /**
   * What ONNX Runtime puts in the temp folder once per JVM (its native library folder, a session
   * id file, a debug log): judged when the worker exits (target jvm-exit), not per case.
   */
  static boolean perJvm(String name) {
    return name.startsWith("onnxruntime-java") || name.equals(".ses") || name.matches("mat-debug-\\d+\\.log");
  }

  /** What a case produced: the verdict, why, and the details saved with a reproducer. */
  record Finding(Verdict verdict, String reason, int code) {
    Finding(Verdict verdict, String reason) {
      this(verdict, reason, -1);
    }
  }

  /** The state before a case: the case folder, the worker's current and temp folders. */
  record Before(Map<String, String> caseDir, Map<String, String> sandbox, Map<String, String> tmp) {
    static Before of(Path caseDir, Path sandbox, Path tmp) {
      return new Before(FuzzFiles.snapshot(caseDir), FuzzFiles.snapshot(sandbox), FuzzFiles.snapshot(tmp));
    }
  }

  static Finding judge(FuzzCase c, Path caseDir, Path sandbox, Path tmp, Before before, WorkerProcess.Outcome o) {
    if (o.died()) return new Finding(Verdict.ABORT, "worker died (exit " + o.exitCode() + "): " + lastLine(o.stderrTail()));
    if (hsErr(sandbox) || hsErr(caseDir)) return new Finding(Verdict.ABORT, "an hs_err_pid file was written");
    if (o.timedOut()) return new Finding(Verdict.HANG, firstLine(o.stderrTail()));
    JsonNode r = o.result();
    int code = r.path("code").asInt();
    String err = r.path("err").asText();
    String thrown = r.path("thrown").asText("");
    if (!thrown.isEmpty() && thrown.contains("Error")) return new Finding(Verdict.ERROR, "escaped: " + firstLine(thrown));
    if (ERROR.matcher(err).find()) return new Finding(Verdict.ERROR, "printed: " + firstMatch(err));

    List<String> clobbered = changed(before.caseDir(), FuzzFiles.snapshot(caseDir), "out/");
    clobbered.addAll(changed(before.sandbox(), FuzzFiles.snapshot(sandbox), null));
    if (!clobbered.isEmpty()) return new Finding(Verdict.CLOBBER, "exit " + code + ", changed or removed: " + clobbered);

    if (!thrown.isEmpty()) return new Finding(Verdict.INTERNAL, "escaped: " + firstLine(thrown));
    if (code == 3) return new Finding(Verdict.INTERNAL, "exit 3: " + firstLine(err));
    if (code < 0 || code > 3) return new Finding(Verdict.INTERNAL, "exit " + code + ": " + firstLine(err));

    List<String> left = leftovers(c, code, before, caseDir, sandbox, tmp);
    if (!left.isEmpty()) return new Finding(Verdict.LEFTOVER, "exit " + code + ", left: " + left);

    String noise = noise(code, err, r.path("errLines").asLong());
    if (noise != null) return new Finding(Verdict.NOISE, noise);
    return new Finding(Verdict.OK, "exit " + code + (err.isEmpty() ? "" : ": " + firstLine(err)), code);
  }

  /** Entries of before that are gone or different now (those under the allowed prefix may change on exit 0). */
  private static List<String> changed(Map<String, String> before, Map<String, String> after, String ignoredPrefix) {
    List<String> r = new ArrayList<>();
    for (var e : before.entrySet()) {
      if (ignoredPrefix != null && e.getKey().equals(ignoredPrefix.substring(0, ignoredPrefix.length() - 1))) continue;
      String now = after.get(e.getKey());
      if (!e.getValue().equals(now)) r.add(e.getKey() + (now == null ? " (removed)" : " (changed)"));
    }
    return r;
  }

  private static List<String> leftovers(FuzzCase c, int code, Before before, Path caseDir, Path sandbox, Path tmp) {
    List<String> r = new ArrayList<>();
    for (String k : FuzzFiles.snapshot(caseDir).keySet()) {
      if (before.caseDir().containsKey(k)) continue;
      if (code == 0 && allowed(c, k)) continue;
      if (isInsideNew(k, r)) continue;
      r.add(k);
    }
    for (String k : FuzzFiles.snapshot(sandbox).keySet()) {
      if (!before.sandbox().containsKey(k) && !isInsideNew("cwd/" + k, r)) r.add("cwd/" + k);
    }
    for (String k : FuzzFiles.snapshot(tmp).keySet()) {
      if (k.isEmpty() || before.tmp().containsKey(k) || perJvm(k.split("/")[0]) || isInsideNew("tmp/" + k, r)) continue;
      r.add("tmp/" + k);
    }
    return r;
  }

  private static boolean allowed(FuzzCase c, String rel) {
    for (String o : c.outputs()) {
      String p = "out/" + o;
      if (rel.equals(p) || rel.startsWith(p + "/")) return true;
    }
    return false;
  }

  private static boolean isInsideNew(String k, List<String> found) {
    for (String f : found) if (k.startsWith(f + "/")) return true;
    return false;
  }

  /** More than the tool's sentence: a stack trace, no "tftrt:" sentence for a failure, or many lines. */
  private static String noise(int code, String err, long lines) {
    if (TRACE.matcher(err).find()) return "stack trace on stderr: " + firstLine(err);
    if (code != 0 && !err.startsWith("tftrt: ")) return "exit " + code + " without a 'tftrt:' sentence: " + firstLine(err);
    int usage = err.indexOf("\nUsage: ");
    long before = usage < 0 ? lines : err.substring(0, usage).lines().count();
    if (code == 2 && before > 2) return before + " lines on stderr: " + firstLine(err);
    return null;
  }

  private static boolean hsErr(Path dir) {
    try (var s = Files.list(dir)) {
      return s.anyMatch(p -> p.getFileName().toString().startsWith("hs_err_pid"));
    } catch (java.io.IOException e) {
      return false;
    }
  }

  static String firstLine(String s) {
    int nl = s.indexOf('\n');
    String l = nl < 0 ? s : s.substring(0, nl);
    return l.length() > 300 ? l.substring(0, 300) + "..." : l;
  }

  /** The last line of a native log that says why (TensorFlow's "F..." CHECK line, or the signal). */
  static String lastLine(String s) {
    List<String> ls = s.lines().filter(l -> !l.isBlank()).toList();
    for (int i = ls.size() - 1; i >= 0; i--) {
      String l = ls.get(i);
      if (l.matches("^F\\d{4} .*") || l.contains("Check failed") || l.contains("SIGSEGV") || l.contains("SIGABRT")) {
        return l.length() > 300 ? l.substring(0, 300) : l;
      }
    }
    return ls.isEmpty() ? "(nothing on stderr)" : firstLine(ls.get(ls.size() - 1));
  }

  private static String firstMatch(String err) {
    return err.lines().filter(l -> ERROR.matcher(l).find()).findFirst().map(Judge::firstLine).orElse("");
  }
}
