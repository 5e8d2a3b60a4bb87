package dev.tftrt.cli;

import dev.tftrt.TftrtException;
import dev.tftrt.model.LoadOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** --set NAME=VALUE: inputs bound to constants before freezing and optimizing. */
final class BindOptions {
  @Option(names = "--set", paramLabel = "NAME=VALUE",
      description = "Bind an input (or placeholder) to a constant: a number, true/false, or a .npy file. It is no"
          + " longer an input, and what depends only on it folds away (keep_prob=1.0, is_training=false)."
          + " Repeatable.")
  List<String> args = new ArrayList<>();

  LoadOptions apply(LoadOptions o) {
    if (args.isEmpty()) return o;
    Map<String, String> m = new LinkedHashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      if (eq <= 0 || eq == a.length() - 1) throw new TftrtException("--set " + a + " is not of the form NAME=VALUE.");
      if (m.put(a.substring(0, eq), a.substring(eq + 1)) != null) {
        throw new TftrtException("--set binds '" + a.substring(0, eq) + "' twice.");
      }
    }
    return o.withBindings(m);
  }
}
