package dev.tftrt.bench;

import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TfModel;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.runtime.Feeds;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.runtime.TfRunner;
import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.runtime.engine.EngineOp;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Resident memory of a loaded converted model against its original graph loaded in TensorFlow,
 * in one run: DeepLab (513x513) by default. The model is converted first (default options), then
 * each case runs in a child JVM of its own (same flags), which loads, runs once and reports VmRSS
 * and VmHWM from /proc/self/status:
 *
 * <ul>
 *   <li>baseline: TensorFlow, the engine op and ONNX Runtime loaded, no model;
 *   <li>original: the frozen graph in a TensorFlow session;
 *   <li>converted: the converted folder as a {@link TftrtModel} (onnxruntime backend).
 * </ul>
 *
 * Each model's figure minus the baseline is what holding that model costs. Also prints the
 * converted folder's size against the frozen graph's.
 *
 * <pre>
 * java -cp "target/test-classes:target/classes:target/lib/*" dev.tftrt.bench.MemoryBenchmark [model.pb] [input=1,513,513,3]
 * </pre>
 */
public final class MemoryBenchmark {
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(args[1], Path.of(args[2]), args[3]);
      return;
    }
    Path model = Path.of(args.length > 0 ? args[0] : "../shared/models/deeplab-mnv2-portrait/frozen_inference_graph.pb");
    String shapeArg = args.length > 1 ? args[1] : "ImageTensor=1,513,513,3";
    Path out = Files.createTempDirectory("tftrt-mem-").resolve("converted");
    ConvertJob.Report r = ConvertJob.run(ConvertJob.builder(LoadOptions.of(model), out).shapes(shapes(shapeArg))
        .backend(dev.tftrt.runtime.backend.Backend.ONNXRUNTIME).build());
    long folder;
    try (var files = Files.walk(out)) {
      folder = files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    }
    long frozen = r.plan().frozen().graph().getSerializedSize();
    System.out.printf("converted %s: %d engine(s); folder %.2f MB, frozen graph %.2f MB (%.2fx)%n", model,
        r.engines().size(), folder / 1e6, frozen / 1e6, (double) folder / frozen);
    long[] base = run("baseline", model, shapeArg);
    long[] orig = run("original", model, shapeArg);
    long[] conv = run("converted", out, shapeArg);
    System.out.printf("%-10s %12s %12s %12s%n", "case", "RSS loaded", "RSS run", "peak RSS");
    print("baseline", base, null);
    print("original", orig, base);
    print("converted", conv, base);
  }

  private static void print(String name, long[] kb, long[] base) {
    String extra = base == null ? "" : String.format("   (+%.1f / +%.1f / +%.1f MB over the baseline)",
        (kb[0] - base[0]) / 1024.0, (kb[1] - base[1]) / 1024.0, (kb[2] - base[2]) / 1024.0);
    System.out.printf("%-10s %9.1f MB %9.1f MB %9.1f MB%s%n", name, kb[0] / 1024.0, kb[1] / 1024.0, kb[2] / 1024.0, extra);
  }

  private static Map<String, long[]> shapes(String arg) {
    String[] p = arg.split("=");
    return Map.of(p[0], Arrays.stream(p[1].split(",")).mapToLong(Long::parseLong).toArray());
  }

  /** Runs one case in a child JVM; its last line is "rss-kb LOADED RUN PEAK". */
  private static long[] run(String which, Path path, String shapeArg) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx2g", "-cp", System.getProperty("java.class.path"), MemoryBenchmark.class.getName(),
        "--child", which, path.toString(), shapeArg));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String last = null;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
      for (String line; (line = in.readLine()) != null; ) if (line.startsWith("rss-kb ")) last = line;
    }
    if (p.waitFor() != 0 || last == null) throw new IllegalStateException(which + ": the child JVM failed");
    String[] f = last.split(" ");
    return new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])};
  }

  private static void child(String which, Path path, String shapeArg) throws Exception {
    Map<String, long[]> shapes = shapes(shapeArg);
    // Every case loads the same libraries, so the differences are the models.
    EngineOp.load();
    dev.tftrt.runtime.ort.Ort.environment();
    long loaded;
    long ran;
    switch (which) {
      case "baseline" -> {
        loaded = status("VmRSS");
        ran = loaded;
      }
      case "original" -> {
        try (TfRunner m = new TfRunner(TfModel.load(LoadOptions.of(path)))) {
          loaded = status("VmRSS");
          Map<String, HostTensor> feeds = Feeds.random(m.inputs(), shapes, 1);
          m.run(feeds);
          ran = status("VmRSS");
        }
      }
      default -> {
        try (TftrtModel m = TftrtModel.load(path)) {
          loaded = status("VmRSS");
          m.run(Feeds.random(m.inputs(), shapes, 1));
          ran = status("VmRSS");
        }
      }
    }
    System.out.println("rss-kb " + loaded + " " + ran + " " + status("VmHWM"));
    System.out.flush();
    Runtime.getRuntime().halt(0); // no library teardown at exit (see the README on exits)
  }

  private static long status(String field) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    throw new IllegalStateException("no " + field + " in /proc/self/status");
  }
}
