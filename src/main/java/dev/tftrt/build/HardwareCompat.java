package dev.tftrt.build;

import dev.tftrt.TftrtException;
import java.util.Locale;

/**
 * TensorRT's hardware-compatibility level ({@code --hardware-compat}): which GPUs a plan may run
 * on besides the one that built it. It is part of the engine cache key in place of the exact
 * compute capability when it widens the target.
 */
public enum HardwareCompat {
  /** Only GPUs of the building GPU's model (TensorRT's default). */
  NONE("none"),
  /** Ampere and newer; must be built on Ampere or newer; may be slower (48 KiB shared memory). */
  AMPERE_PLUS("ampere+"),
  /** Any GPU of the same SM version; must be built on Turing or newer. */
  SAME_COMPUTE_CAPABILITY("same-cc");

  private final String cli;

  HardwareCompat(String cli) {
    this.cli = cli;
  }

  public String cliName() {
    return cli;
  }

  public static HardwareCompat parse(String s) {
    String v = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
    for (HardwareCompat h : values()) if (h.cli.equals(v)) return h;
    throw new TftrtException("--hardware-compat " + s + " is not one of none, ampere+, same-cc.");
  }

  /**
   * The GPU part of a cache key: the exact device for {@link #NONE} (plans are not portable
   * across GPU models), the SM version for {@link #SAME_COMPUTE_CAPABILITY}, the level alone for
   * {@link #AMPERE_PLUS}.
   */
  public String target(GpuInfo gpu) {
    return switch (this) {
      case NONE -> gpu.computeCapability() + " " + gpu.name();
      case SAME_COMPUTE_CAPABILITY -> gpu.computeCapability();
      case AMPERE_PLUS -> "ampere+";
    };
  }

  /** Whether the building GPU may build this level (compute capability major.minor). */
  public String refusal(GpuInfo gpu) {
    int major = gpu.ccMajor();
    if (this == AMPERE_PLUS && major < 8) {
      return "--hardware-compat ampere+ needs an Ampere or newer GPU to build on; this one is "
          + gpu.describe() + ".";
    }
    if (this == SAME_COMPUTE_CAPABILITY && (major < 7 || (major == 7 && gpu.ccMinor() < 5))) {
      return "--hardware-compat same-cc needs a Turing or newer GPU to build on; this one is "
          + gpu.describe() + ".";
    }
    return null;
  }
}
