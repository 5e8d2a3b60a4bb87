package dev.tftrt.testing;

import dev.tftrt.model.LoadOptions;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds {@link LoadOptions} by component name, so tests keep compiling when the record gains
 * components (they are left null, which the record turns into its defaults).
 */
public final class Loads {
  private final Map<String, Object> values = new HashMap<>();

  private Loads(Path path) {
    values.put("path", path);
  }

  public static Loads of(Path path) {
    return new Loads(path);
  }

  public Loads tags(String... tags) {
    values.put("tags", List.of(tags));
    return this;
  }

  public Loads signature(String signature) {
    values.put("signature", signature);
    return this;
  }

  public Loads checkpoint(Path checkpoint) {
    values.put("checkpoint", checkpoint);
    return this;
  }

  public Loads outputs(String... outputs) {
    values.put("outputs", List.of(outputs));
    return this;
  }

  public LoadOptions build() {
    RecordComponent[] cs = LoadOptions.class.getRecordComponents();
    Class<?>[] types = new Class<?>[cs.length];
    Object[] args = new Object[cs.length];
    for (int i = 0; i < cs.length; i++) {
      types[i] = cs[i].getType();
      args[i] = values.get(cs[i].getName());
    }
    for (String k : values.keySet()) {
      boolean known = false;
      for (RecordComponent c : cs) known |= c.getName().equals(k);
      if (!known) throw new IllegalStateException("LoadOptions has no component '" + k + "'");
    }
    try {
      Constructor<LoadOptions> ctor = LoadOptions.class.getDeclaredConstructor(types);
      return ctor.newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }
}
