package dev.tftrt.runtime.backend;

import dev.tftrt.build.BuildOptions;
import dev.tftrt.build.EngineCache;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How the {@code tensorrt} backend finds or builds its engines, for this process: the engine
 * cache (where engines built at run time are stored, default {@code ~/.cache/tftrt/engines}),
 * the build options (which hold {@code allowBuildAtRuntime}), and whether builds show a progress
 * bar. A converted model's own {@code engines/} folder (written by {@code tftrt build}) is
 * searched as well; it is never written at run time.
 */
public record TensorRtSettings(Path engineCache, BuildOptions options, boolean progressBar) {
  private static volatile TensorRtSettings current =
      new TensorRtSettings(BuildOptions.defaultEngineCacheDir(), BuildOptions.defaults(), false);

  public TensorRtSettings {
    Objects.requireNonNull(engineCache);
    Objects.requireNonNull(options);
  }

  public static TensorRtSettings current() {
    return current;
  }

  /** Replaces the process's settings (the CLI sets them from its options). */
  public static void set(TensorRtSettings s) {
    current = Objects.requireNonNull(s);
  }

  /** Whether a missing engine is built at load: {@code override} (a load option) when given, else these options'. */
  public boolean allowBuild(Boolean override) {
    return override != null ? override : options.allowBuildAtRuntime();
  }

  /** The caches to search for a model in {@code modelDir} (null: none): the user cache first, where builds go. */
  public List<EngineCache> caches(Path modelDir) {
    List<EngineCache> r = new ArrayList<>();
    r.add(new EngineCache(engineCache));
    if (modelDir != null) r.add(new EngineCache(modelDir.resolve("engines")));
    return r;
  }
}
