package dev.tftrt.runtime.backend;

import dev.tftrt.runtime.ort.OrtOptions;

import ai.onnxruntime.OrtEnvironment;
import dev.tftrt.runtime.OnnxRunner;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The process's ONNX Runtime environment as engine sessions see it. ONNX Runtime has one
 * environment per process and its global thread pool is fixed when it is created, so the first
 * request decides the pool's size; a later request for other sizes cannot be met and is logged
 * at WARNING once per distinct size asked for (the set is bounded by the sizes users pick).
 */
public final class OrtEnvironments {
  private static final Logger LOG = Logger.getLogger(OrtEnvironments.class.getName());
  private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

  private OrtEnvironments() {}

  /** The environment for sessions made with {@code o}; warns when its shared pool has other sizes. */
  public static OrtEnvironment forSessions(OrtOptions o) {
    OrtEnvironment env = dev.tftrt.runtime.ort.Ort.environment(o.intraOpThreads(), o.interOpThreads());
    int[] has = dev.tftrt.runtime.ort.Ort.globalPool();
    if (o.sharedPool() && has != null && (has[0] != o.intraOpThreads() || has[1] != o.interOpThreads())
        && WARNED.add(o.intraOpThreads() + "/" + o.interOpThreads())) {
      LOG.log(Level.WARNING, () -> "ONNX Runtime's shared thread pool of this process was created with "
          + describe(has) + "; the " + describe(new int[] {o.intraOpThreads(), o.interOpThreads()})
          + " asked for now cannot apply to it (one pool per process, sized by its first user): "
          + "set sharedPool false for a per-session pool of that size.");
    }
    return env;
  }

  private static String describe(int[] p) {
    return (p[0] == 0 ? "the default number of" : Integer.toString(p[0])) + " intra-op and "
        + (p[1] == 0 ? "the default number of" : Integer.toString(p[1])) + " inter-op threads";
  }

}
