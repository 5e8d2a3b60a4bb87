package dev.tftrt.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts a separate JVM on the test classpath: for what only a whole process shows (exit codes, signals, exit-time files). */
public final class ChildJvm {
  private ChildJvm() {}

  /** java [jvmArgs] -cp (the test classpath) mainClass args, in dir, output to dir/out.txt and dir/err.txt. */
  public static Process start(Path dir, List<String> jvmArgs, String mainClass, String... args) throws IOException {
    return start(dir, java.util.Map.of(), jvmArgs, mainClass, args);
  }

  /** The same, with extra environment variables. */
  public static Process start(Path dir, java.util.Map<String, String> env, List<String> jvmArgs, String mainClass,
      String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
    pb.environment().putAll(env);
    return pb.start();
  }

  /** The classpath separator, for callers that build their own. */
  public static String pathSeparator() {
    return File.pathSeparator;
  }
}
