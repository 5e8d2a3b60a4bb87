package dev.tftrt.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tftrt.TftrtException;
import dev.tftrt.cli.Main;
import dev.tftrt.runtime.TftrtModel;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The child JVM of a campaign: reads one case per line on stdin (JSON: id, target, args), runs it
 * in-process and answers one "@@FUZZ {json}" line on stdout. If TensorFlow aborts the process,
 * the parent sees the pipe close with the case in flight. System.out is moved to stderr so that
 * nothing the tool prints can garble the protocol.
 */
public final class Worker {
  static final String PREFIX = "@@FUZZ ";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int KEEP = 8000;

  private Worker() {}

  public static void main(String[] argv) throws Exception {
    PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    protocol.println(PREFIX + "{\"ready\":true}");
    for (String line; (line = in.readLine()) != null; ) {
      if (line.equals("EXIT")) break;
      ObjectNode c = (ObjectNode) JSON.readTree(line);
      List<String> args = JSON.convertValue(c.get("args"), JSON.getTypeFactory().constructCollectionType(List.class, String.class));
      ObjectNode result = run(c.get("target").asText(), args);
      result.put("id", c.get("id").asText());
      protocol.println(PREFIX + JSON.writeValueAsString(result));
    }
    System.exit(0);
  }

  static ObjectNode run(String target, List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    ObjectNode r = JSON.createObjectNode();
    long t0 = System.nanoTime();
    int code;
    try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
      try {
        code = switch (target) {
          case "load" -> load(Path.of(args.get(0)), e);
          case "selftest" -> selftest(args.get(0));
          default -> Main.execute(args.toArray(String[]::new), o, e);
        };
      } catch (Throwable t) {
        // What escaped the CLI's own handlers: an Error, or an exception picocli let through.
        code = -1;
        r.put("thrown", t.toString());
        StringWriter trace = new StringWriter();
        t.printStackTrace(new PrintWriter(trace));
        r.put("trace", cut(trace.toString()));
      }
    }
    r.put("code", code);
    r.put("ms", (System.nanoTime() - t0) / 1_000_000);
    r.put("out", cut(out.toString()));
    r.put("err", cut(err.toString()));
    r.put("errLines", err.toString().lines().count());
    return r;
  }

  /** TftrtModel.load as a service calls it: a TftrtException is bad input, anything else internal. */
  private static int load(Path dir, PrintWriter err) {
    try (TftrtModel m = TftrtModel.load(dir)) {
      m.inputs();
      return Main.OK;
    } catch (TftrtException e) {
      err.println("tftrt: " + e.getMessage());
      return Main.BAD_INPUT;
    } catch (RuntimeException e) {
      err.println("tftrt: internal error: " + e);
      return Main.INTERNAL;
    }
  }

  /** Failures on purpose, so the harness's own tests see it classify them. */
  private static int selftest(String what) throws InterruptedException {
    switch (what) {
      case "abort" -> Runtime.getRuntime().halt(134);
      case "hang" -> Thread.sleep(Long.MAX_VALUE);
      case "error" -> throw new StackOverflowError();
      default -> { }
    }
    return 0;
  }

  private static String cut(String s) {
    return s.length() <= KEEP ? s : s.substring(0, KEEP / 2) + "\n...\n" + s.substring(s.length() - KEEP / 2);
  }
}
