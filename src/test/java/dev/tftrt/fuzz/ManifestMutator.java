package dev.tftrt.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Structure-aware mutations of a converted folder's tftrt.json, as an attacker or a careless
 * edit would make them: fields removed or retyped, paths out of the folder, unknown tensors.
 */
public final class ManifestMutator {
  private ManifestMutator() {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  static final String[] PATHS = {
      "../../../../../../etc/passwd", "/etc/passwd", "/etc/shadow", "payloads/../../outside.onnx", "payloads",
      "", ".", "/", "payloads/missing.onnx", "payloads/x.onnx/../../tftrt.json", "/dev/zero",
      "../secret.txt"};

  /** A location in the tree: a parent and a field name or an array index. */
  private record Slot(JsonNode parent, String field, int index) {
    JsonNode get() {
      return field != null ? parent.get(field) : parent.get(index);
    }

    void set(JsonNode v) {
      if (field != null) ((ObjectNode) parent).set(field, v);
      else ((ArrayNode) parent).set(index, v);
    }

    void remove() {
      if (field != null) ((ObjectNode) parent).remove(field);
      else ((ArrayNode) parent).remove(index);
    }

    String where() {
      return field != null ? field : "[" + index + "]";
    }
  }

  public static byte[] mutate(byte[] manifest, Random r, StringBuilder d) {
    JsonNode root;
    try {
      root = JSON.readTree(manifest);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int n = 1 + r.nextInt(2);
    for (int i = 0; i < n; i++) once(root, r, d);
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void once(JsonNode root, Random r, StringBuilder d) {
    // A third of the time an engine's payload path, the field an attacker goes for first.
    JsonNode engines = root.get("engines");
    if (r.nextInt(3) == 0 && engines != null && engines.isArray() && engines.size() > 0
        && engines.get(0).isObject()) {
      String p = PATHS[r.nextInt(PATHS.length)];
      JsonNode payloads = engines.get(r.nextInt(engines.size())).get("payloads");
      if (payloads != null && payloads.isArray() && payloads.size() > 0 && payloads.get(0).isObject()) {
        ((ObjectNode) payloads.get(0)).put("file", p);
        d.append("manifest: engine payload file '").append(p).append("'; ");
        return;
      }
    }
    List<Slot> slots = new ArrayList<>();
    collect(root, slots);
    if (slots.isEmpty()) return;
    Slot s = slots.get(r.nextInt(slots.size()));
    JsonNode v = s.get();
    switch (r.nextInt(9)) {
      case 0 -> {
        s.remove();
        d.append("manifest: removed ").append(s.where()).append("; ");
        return;
      }
      case 1 -> s.set(F.nullNode());
      case 2 -> s.set(F.textNode(v.isTextual() ? v.asText() + "_x:7" : "bogus"));
      case 3 -> s.set(F.numberNode(new long[] {-1, 0, 2, Integer.MAX_VALUE + 1L, Long.MAX_VALUE}[r.nextInt(5)]));
      case 4 -> s.set(F.arrayNode());
      case 5 -> s.set(F.objectNode());
      case 6 -> s.set(F.textNode(PATHS[r.nextInt(PATHS.length)]));
      case 7 -> {
        if (v.isArray() && v.size() > 0) ((ArrayNode) v).add(v.get(0).deepCopy());
        else s.set(F.booleanNode(true));
      }
      default -> s.set(F.textNode(new String[] {"no_such_node:0", "X:0", "TftrtEngine_0:99", ":0", "a:b:c"}[r.nextInt(5)]));
    }
    d.append("manifest: ").append(s.where()).append(" = ").append(abbreviate(s.parent().isObject() && s.field() != null
        ? s.parent().get(s.field()) : s.parent().get(s.index()))).append("; ");
  }

  private static String abbreviate(JsonNode v) {
    String t = String.valueOf(v);
    return t.length() > 60 ? t.substring(0, 60) + "..." : t;
  }

  private static void collect(JsonNode n, List<Slot> out) {
    if (n.isObject()) {
      for (var it = n.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        out.add(new Slot(n, f, -1));
        collect(n.get(f), out);
      }
    } else if (n.isArray()) {
      for (int i = 0; i < n.size(); i++) {
        out.add(new Slot(n, null, i));
        collect(n.get(i), out);
      }
    }
  }
}
