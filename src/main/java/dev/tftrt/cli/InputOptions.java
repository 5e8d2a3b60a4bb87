package dev.tftrt.cli;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Npy;
import dev.tftrt.tensor.Npz;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.DataType;
import picocli.CommandLine.Option;

/** How run and compare get their inputs: files, literal scalars, or seeded random values. */
final class InputOptions {
  @Option(names = {"-i", "--input"}, paramLabel = "NAME=VALUE",
      description = "An input: name=file.npy, name=@file (the file's bytes as a string), name=0.5 (a scalar), or"
          + " inputs.npz, a NumPy archive holding several inputs by name (repeatable).")
  List<String> inputs = new ArrayList<>();

  @Option(names = "--random", description = "Fill inputs not given with --input with seeded random values.")
  boolean random;

  @Option(names = "--seed", defaultValue = "0", description = "Seed for --random (default: ${DEFAULT-VALUE}).")
  long seed;

  /** The inputs given with --input (not the random ones), keyed by the runner's input keys. */
  Map<String, HostTensor> given(ModelRunner runner) {
    Map<String, HostTensor> feeds = new LinkedHashMap<>();
    for (Map.Entry<String, HostTensor> e : parse(runner.inputs(), runner.describe()).entrySet()) {
      TensorSpec s = find(runner.inputs(), e.getKey(), runner.describe());
      feeds.put(s.key(), e.getValue());
    }
    return feeds;
  }

  /** The feeds for a model, keyed by its input keys: given ones, then random ones if --random. */
  Map<String, HostTensor> feeds(ModelRunner runner, Map<String, long[]> shapes) {
    List<TensorSpec> specs = runner.inputs();
    String model = runner.describe();
    Map<String, HostTensor> given = parse(specs, model);
    Map<String, HostTensor> feeds = new LinkedHashMap<>();
    List<TensorSpec> missing = new ArrayList<>();
    for (TensorSpec s : specs) {
      HostTensor t = given.remove(s.key());
      if (t == null) t = given.remove(s.tensor());
      if (t == null) missing.add(s);
      else feeds.put(s.key(), t);
    }
    if (!given.isEmpty()) {
      throw new TftrtException(model + " has no input '" + given.keySet().iterator().next() + "'; its inputs are: "
          + String.join(", ", specs.stream().map(TensorSpec::key).toList()) + ".");
    }
    if (!missing.isEmpty()) {
      if (!random) {
        throw new TftrtException("input '" + missing.get(0).key() + "' was not given: pass --input "
            + missing.get(0).key() + "=FILE.npy, or --random.");
      }
      Map<String, HostTensor> generated = runner.randomInputs(shapes, seed);
      for (TensorSpec s : missing) feeds.put(s.key(), generated.get(s.key()));
    }
    return feeds;
  }

  /** The files --input reads (.npz, .npy, @file): what a command must not write over. */
  List<Path> files() {
    List<Path> r = new ArrayList<>();
    for (String arg : inputs) {
      String v = arg.indexOf('=') < 0 ? arg : arg.substring(arg.indexOf('=') + 1);
      if (v.startsWith("@")) r.add(Path.of(v.substring(1)));
      else if (v.endsWith(".npy") || v.endsWith(".npz")) r.add(Path.of(v));
    }
    return r;
  }

  /** --input values by the name the user gave (an .npz contributes its array names). */
  private Map<String, HostTensor> parse(List<TensorSpec> specs, String model) {
    Map<String, HostTensor> given = new LinkedHashMap<>();
    for (String arg : inputs) {
      int eq = arg.indexOf('=');
      if (eq < 0) {
        Path p = Path.of(arg);
        if (!arg.endsWith(".npz")) {
          throw new TftrtException("--input " + arg + " is neither name=value nor a .npz file.");
        }
        given.putAll(Npz.read(p));
        continue;
      }
      String name = arg.substring(0, eq);
      String value = arg.substring(eq + 1);
      TensorSpec spec = find(specs, name, model);
      given.put(spec.key(), parseValue(spec, value));
    }
    return given;
  }

  private static TensorSpec find(List<TensorSpec> specs, String name, String model) {
    for (TensorSpec s : specs) {
      if (s.key().equals(name) || s.tensor().equals(name) || s.tensor().equals(name + ":0")) return s;
    }
    throw new TftrtException(model + " has no input '" + name + "'; its inputs are: "
        + String.join(", ", specs.stream().map(TensorSpec::key).toList()) + ".");
  }

  private static HostTensor parseValue(TensorSpec spec, String value) {
    if (value.startsWith("@")) {
      Path p = Path.of(value.substring(1));
      byte[] bytes = dev.tftrt.util.InputFiles.read(p, dev.tftrt.util.Memory.MAX_ARRAY, "a string input");
      long[] shape = spec.shape() != null && spec.shape().length == 1 ? new long[] {1} : new long[0];
      return HostTensor.ofStrings(shape, new byte[][] {bytes});
    }
    if (value.endsWith(".npy")) return Npy.read(Path.of(value));
    if (spec.dtype() == DataType.DT_STRING) {
      return HostTensor.ofStrings(new long[0], new byte[][] {value.getBytes(java.nio.charset.StandardCharsets.UTF_8)});
    }
    double v;
    try {
      v = value.equalsIgnoreCase("true") ? 1 : value.equalsIgnoreCase("false") ? 0 : Double.parseDouble(value);
    } catch (NumberFormatException e) {
      throw new TftrtException("--input " + spec.key() + "=" + value + " is neither a .npy file, @file, nor a number.");
    }
    ByteBuffer b = ByteBuffer.allocate(DTypes.byteSize(spec.dtype())).order(ByteOrder.LITTLE_ENDIAN);
    HostTensor.putDouble(b, 0, spec.dtype(), v);
    // A number for an input that holds exactly one element ([1], [1, 1]) takes that shape.
    long[] shape = spec.shape() != null && java.util.Arrays.stream(spec.shape()).allMatch(d -> d == 1)
        ? spec.shape() : new long[0];
    return HostTensor.of(spec.dtype(), shape, b);
  }

  String describe() {
    if (inputs.isEmpty()) return random ? "random (seed " + seed + ")" : "none";
    return String.join(" ", inputs) + (random ? " + random (seed " + seed + ")" : "");
  }
}
