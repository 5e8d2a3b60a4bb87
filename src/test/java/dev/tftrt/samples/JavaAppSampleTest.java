package dev.tftrt.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.runtime.Outputs;
import dev.tftrt.runtime.TftrtModel;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * Builds samples/java-app the way its users would run it, but without installing tftrt: its
 * source is compiled against this build's classpath, and its main runs in a child JVM on the
 * converted demo model. The sample's checksum of the predicted classes must equal the one this
 * test computes from a single-threaded, in-process run on the same inputs.
 */
class JavaAppSampleTest {
  private static final Path SAMPLE_SOURCES = Path.of("samples", "java-app", "src", "main", "java");
  private static final String MAIN = "dev.tftrt.samples.ClassifyService";
  private static final int THREADS = 4;
  private static final int CALLS = 5;
  private static final int BATCH = 2;

  @TempDir static Path tmp;
  static Path classes;
  static Path converted;

  @BeforeAll
  static void compileTheSampleAndConvertTheDemoModel() throws Exception {
    classes = Files.createDirectories(tmp.resolve("sample-classes"));
    compile(SAMPLE_SOURCES, classes);
    Path saved = tmp.resolve("saved_model");
    DemoModel.save(saved, 42);
    converted = tmp.resolve("converted");
    ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(saved), converted));
  }

  @Test
  void fourThreadsCallTheModelAndAgreeWithASingleThreadedRun() throws Exception {
    Run r = runSample(converted.toString(), "--threads", "" + THREADS, "--calls", "" + CALLS, "--batch", "" + BATCH);
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("input  image (image:0) float32[?, 16, 16, 3]"), r.toString());
    assertTrue(r.out().contains("output probabilities"), r.toString());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("  engine TftrtEngine_0 runs on ")), r.toString());
    assertTrue(r.out().contains("calls: " + THREADS + " threads x " + CALLS + ", all succeeded"), r.toString());
    long perCall = r.out().lines().filter(l -> l.matches("  thread \\d call \\d: +[0-9.]+ ms, classes \\[\\d, \\d\\]")).count();
    assertEquals(THREADS * CALLS, perCall, r.toString());
    assertTrue(r.out().contains("latency ms: min "), r.toString());

    Matcher m = Pattern.compile("(?m)^checksum: ([0-9a-f]{8})$").matcher(r.out());
    assertTrue(m.find(), "no checksum line\n" + r);
    assertEquals(String.format("%08x", expectedChecksum()), m.group(1),
        "the sample's threads predicted other classes than a single-threaded run\n" + r);
  }

  @Test
  void aMissingFolderExitsWithTwoAndOneSentence() throws Exception {
    Run r = runSample(tmp.resolve("no-such-folder").toString());
    assertEquals(2, r.code(), r.toString());
    assertEquals("", r.out(), r.toString());
    assertOneSentence(r.err(), "does not exist");
  }

  @Test
  void aFolderThatIsNotConvertedExitsWithTwoAndOneSentence() throws Exception {
    Run r = runSample(tmp.resolve("saved_model").toString());
    assertEquals(2, r.code(), r.toString());
    assertOneSentence(r.err(), "is not a converted model");
  }

  private static void assertOneSentence(String err, String mentions) {
    List<String> lines = err.strip().lines().toList();
    assertEquals(1, lines.size(), "expected one line on stderr:\n" + err);
    String line = lines.get(0);
    assertTrue(line.startsWith("ClassifyService: ") && line.contains(mentions) && line.endsWith("."), line);
  }

  /**
   * The sample's documented scheme, computed here independently, one call after another: the
   * input of thread t, call c is Random(1000 t + c).nextFloat() in row-major order; the checksum
   * folds the arg max of every row of every float32 output, thread by thread, call by call.
   */
  private static int expectedChecksum() {
    int checksum = 17;
    try (TftrtModel model = TftrtModel.load(converted)) {
      TensorSpec in = model.inputs().get(0);
      assertEquals(1, model.inputs().size());
      for (int t = 0; t < THREADS; t++) {
        for (int c = 0; c < CALLS; c++) {
          Random rnd = new Random(1000L * t + c);
          float[] image = new float[BATCH * 16 * 16 * 3];
          for (int i = 0; i < image.length; i++) image[i] = rnd.nextFloat();
          try (TFloat32 x = TFloat32.tensorOf(Shape.of(BATCH, 16, 16, 3), DataBuffers.of(image, true, false));
              Outputs r = model.call(Map.<String, Tensor>of(in.key(), x))) {
            for (String name : List.of("logits", "probabilities")) { // the demo model's signature, in order
              TFloat32 y = r.get(name, TFloat32.class);
              for (int row = 0; row < y.shape().get(0); row++) {
                int best = 0;
                for (int k = 1; k < y.shape().get(1); k++) {
                  if (y.getFloat(row, k) > y.getFloat(row, best)) best = k;
                }
                checksum = 31 * checksum + best;
              }
            }
          }
        }
      }
    }
    return checksum;
  }

  private static void compile(Path sources, Path out) throws Exception {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertTrue(javac != null, "no system Java compiler (a JRE, not a JDK?)");
    List<File> files;
    try (Stream<Path> s = Files.walk(sources)) {
      files = s.filter(p -> p.toString().endsWith(".java")).map(Path::toFile).collect(Collectors.toList());
    }
    assertTrue(!files.isEmpty(), "no sources under " + sources.toAbsolutePath());
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager fm = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
      List<String> options = List.of("--release", "17", "-proc:none", "-Xlint:all,-path", "-encoding", "UTF-8",
          "-classpath", System.getProperty("java.class.path"), "-d", out.toString());
      boolean ok = javac.getTask(null, fm, diagnostics, options, null, fm.getJavaFileObjectsFromFiles(files)).call();
      List<String> problems = new ArrayList<>();
      for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
        if (d.getKind() != Diagnostic.Kind.NOTE) problems.add(d.toString());
      }
      if (!ok || !problems.isEmpty()) fail("the sample does not compile cleanly:\n" + String.join("\n", problems));
    }
  }

  record Run(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit code " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private static Run runSample(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path") + File.pathSeparator + classes, MAIN));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(tmp, "stdout", ".txt");
    Path err = Files.createTempFile(tmp, "stderr", ".txt");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      fail("the sample ran for over 120 s: " + String.join(" ", args) + "\n" + Files.readString(out));
    }
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }
}
