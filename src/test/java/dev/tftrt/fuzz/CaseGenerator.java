package dev.tftrt.fuzz;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;

/**
 * Makes case number index of a campaign: picks a recipe and a seed input, mutates it into the
 * case folder's in/, and builds the command line. Everything comes from one Random seeded by
 * (campaign seed, index), so a case is reproducible on its own.
 */
public final class CaseGenerator {
  private final Seeds seeds;
  private final long campaignSeed;
  private final List<String> targets;

  /** Recipes and their weights (out of 100). */
  static final String[] RECIPES = {"graph-bytes", "graph-struct", "saved-model", "npy", "converted", "args", "out-path", "handmade"};
  static final int[] WEIGHTS = {18, 30, 12, 10, 16, 6, 5, 3};

  public CaseGenerator(Seeds seeds, long campaignSeed, List<String> targets) {
    this.seeds = seeds;
    this.campaignSeed = campaignSeed;
    this.targets = targets;
  }

  static Random random(long seed, long index) {
    return new Random(seed * 0x9E3779B97F4A7C15L + index * 0xC2B2AE3D27D4EB4FL + 1);
  }

  public FuzzCase generate(long index, Path caseDir) {
    Random r = random(campaignSeed, index);
    String id = String.format("c%06d", index);
    try {
      Files.createDirectories(caseDir.resolve("in"));
      Files.createDirectories(caseDir.resolve("out"));
      for (int attempt = 0; ; attempt++) {
        String recipe = pickRecipe(r);
        FuzzCase c = make(recipe, id, index, r, caseDir);
        if (c != null && (targets.isEmpty() || targets.contains(c.target())) || attempt > 50) {
          if (c != null) return c;
        }
        FuzzFiles.deleteTree(caseDir.resolve("in"));
        FuzzFiles.deleteTree(caseDir.resolve("out"));
        Files.createDirectories(caseDir.resolve("in"));
        Files.createDirectories(caseDir.resolve("out"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String pickRecipe(Random r) {
    int x = r.nextInt(100);
    for (int i = 0; i < RECIPES.length; i++) {
      if (x < WEIGHTS[i]) return RECIPES[i];
      x -= WEIGHTS[i];
    }
    return RECIPES[0];
  }

  private FuzzCase make(String recipe, String id, long index, Random r, Path dir) throws IOException {
    StringBuilder d = new StringBuilder();
    switch (recipe) {
      case "graph-bytes", "graph-struct" -> {
        Seeds.Model m = pick(seeds.graphs, r);
        boolean text = m.name().endsWith(".pbtxt");
        byte[] b = Seeds.bytes(m.path());
        if (recipe.equals("graph-bytes")) {
          b = ByteMutator.mutate(b, Seeds.bytes(pick(seeds.graphs, r).path()), r, d);
        } else {
          GraphDef g = parseGraph(b, text);
          g = GraphMutator.mutate(g, r, d);
          b = text ? TextFormat.printer().printToString(g).getBytes(StandardCharsets.UTF_8) : g.toByteArray();
        }
        Path in = dir.resolve("in").resolve(text ? "model.pbtxt" : "model.pb");
        FuzzFiles.write(in, b);
        return modelCase(id, index, recipe, m, "{case}/in/" + in.getFileName(), r, d, true);
      }
      case "saved-model" -> {
        Seeds.Model m = pick(seeds.savedModels, r);
        Path sm = dir.resolve("in/model");
        FuzzFiles.copy(m.path(), sm);
        mutateSavedModel(sm, r, d);
        return modelCase(id, index, recipe, m, "{case}/in/model", r, d, false);
      }
      case "npy" -> {
        Seeds.Model m = pick(seeds.npyTargets, r);
        Path seedNpy = seeds.npys.get(m.input().equals("s") ? 1 : m.input().equals("X") ? 2 : 0);
        byte[] b = r.nextInt(5) == 0 ? ByteMutator.mutate(Seeds.bytes(seedNpy), null, r, d)
            : NpyMutator.mutate(Seeds.bytes(seedNpy), r, d);
        FuzzFiles.write(dir.resolve("in/input.npy"), b);
        FuzzFiles.copy(m.path(), dir.resolve("in/model.pb"));
        List<String> args = new ArrayList<>(List.of(r.nextInt(4) == 0 ? "compare" : "run", "{case}/in/model.pb"));
        if (args.get(0).equals("compare")) args.add("{case}/in/model.pb");
        args.add("--input");
        args.add(m.input() + "={case}/in/input.npy");
        return new FuzzCase(id, campaignSeed, index, recipe, args.get(0), args, List.of(), "seed " + m.name() + "; " + d);
      }
      case "converted" -> {
        Seeds.Model m = pick(seeds.converted, r);
        Path conv = dir.resolve("in/conv");
        FuzzFiles.copy(m.path(), conv);
        Files.writeString(dir.resolve("in/secret.txt"), "not for the tool to read\n");
        mutateConverted(conv, r, d);
        String target = new String[] {"run", "run", "inspect", "compare", "load", "load", "convert"}[r.nextInt(7)];
        List<String> args = switch (target) {
          case "run" -> new ArrayList<>(List.of("run", "{case}/in/conv", "--random"));
          case "inspect" -> List.of("inspect", "{case}/in/conv");
          case "compare" -> List.of("compare", "{case}/in/conv/frozen.pb", "{case}/in/conv", "--random");
          case "convert" -> List.of("convert", "{case}/in/conv", "-o", "{case}/out/conv2");
          default -> List.of("{case}/in/conv");
        };
        if (target.equals("run") && r.nextBoolean()) {
          args.add("--backend");
          args.add(new String[] {"tensorflow", "onnxruntime", "tensorrt", "auto"}[r.nextInt(4)]);
        }
        return new FuzzCase(id, campaignSeed, index, recipe, target, args,
            target.equals("convert") ? List.of("conv2") : List.of(), "seed " + m.name() + "; " + d);
      }
      case "args" -> {
        Seeds.Model m = pick(r.nextBoolean() ? seeds.graphs : seeds.savedModels, r);
        FuzzFiles.copy(m.path(), dir.resolve("in").resolve(m.isDir() ? "model" : m.path().getFileName().toString()));
        String model = "{case}/in/" + (m.isDir() ? "model" : m.path().getFileName());
        List<String> extra = new ArrayList<>();
        switch (r.nextInt(6)) {
          case 0, 1 -> {
            String[] dims = {"100000000,784", "0", "-3,4", "1,1,1,1,1,1,1,1,1,1", "2147483648,2", "100000,100000,3",
                "1,4.5", "", "1,,4", "99999999999999999999", "46341,46341", "3"};
            extra.add("--shape");
            extra.add(m.input() + "=" + dims[r.nextInt(dims.length)]);
          }
          case 2 -> {
            extra.add("--input");
            extra.add(new String[] {m.input() + "=nan", m.input() + "=1e400", "nosuch=1", m.input() + "=@{case}/in/missing",
                m.input() + "={case}/in", m.input() + "=abc", "=1", m.input()}[r.nextInt(8)]);
          }
          case 3 -> {
            extra.add(r.nextBoolean() ? "--outputs" : "--inputs");
            extra.add(new String[] {"nosuch:0", m.input() + ":5", "", ",", m.input(), "a:b"}[r.nextInt(6)]);
          }
          case 4 -> {
            extra.add(new String[] {"--opset", "--min-segment-size", "--max-engines", "--seed"}[r.nextInt(4)]);
            extra.add(new String[] {"-1", "0", "999", "2147483648", "x"}[r.nextInt(5)]);
          }
          default -> {
            extra.add(new String[] {"--signature", "--tags", "--exclude-ops", "--exclude-nodes", "--backend"}[r.nextInt(5)]);
            extra.add(new String[] {"nosuch", "", "serve,train", "MatMul", "gpu"}[r.nextInt(5)]);
          }
        }
        d.append("args ").append(extra);
        FuzzCase c = modelCase(id, index, recipe, m, model, r, new StringBuilder(), false);
        List<String> args = new ArrayList<>(c.args());
        args.removeIf(a -> false);
        stripShape(args);
        args.addAll(extra);
        return new FuzzCase(id, campaignSeed, index, recipe, c.target(), args, c.outputs(), "seed " + m.name() + "; " + d);
      }
      case "out-path" -> {
        return outPathCase(id, index, r, dir);
      }
      default -> {
        return handmade(id, index, r, dir);
      }
    }
  }

  /** A command over a (mutated) model: heavy seeds only get the cheap commands. */
  private FuzzCase modelCase(String id, long index, String recipe, Seeds.Model m, String model, Random r,
      StringBuilder d, boolean exportable) {
    String[] cheap = {"inspect", "freeze", "run"};
    String[] all = {"inspect", "freeze", "convert", "convert", "run", "export-onnx", "compare"};
    String[] choice = m.heavy() ? cheap : all;
    String target = choice[r.nextInt(choice.length)];
    List<String> args = new ArrayList<>();
    List<String> outputs = List.of();
    args.add(target);
    args.add(model);
    switch (target) {
      case "freeze" -> {
        args.add("-o");
        args.add("{case}/out/f.pb");
        if (m.heavy() || r.nextInt(3) == 0) args.add("--no-verify");
        outputs = List.of("f.pb", "f.json");
      }
      case "convert" -> {
        args.add("-o");
        args.add("{case}/out/conv");
        outputs = List.of("conv");
      }
      case "export-onnx" -> {
        args.add("-o");
        args.add("{case}/out/m.onnx");
        outputs = List.of("m.onnx");
      }
      case "run" -> {
        args.add("--random");
        if (r.nextBoolean()) {
          args.add("-o");
          args.add("{case}/out/r.npz");
          outputs = List.of("r.npz");
        }
      }
      case "compare" -> {
        args.add(model);
        args.add("--random");
      }
      default -> { }
    }
    if (!m.shape().isEmpty() && (m.heavy() || r.nextBoolean())) {
      args.add("--shape");
      args.add(m.shape());
    }
    return new FuzzCase(id, campaignSeed, index, recipe, target, args, outputs, "seed " + m.name() + "; " + d);
  }

  private static void stripShape(List<String> args) {
    int i = args.indexOf("--shape");
    if (i >= 0) {
      args.remove(i + 1);
      args.remove(i);
    }
  }

  private static GraphDef parseGraph(byte[] b, boolean text) {
    try {
      if (!text) return GraphDef.parseFrom(b);
      GraphDef.Builder g = GraphDef.newBuilder();
      TextFormat.merge(new String(b, StandardCharsets.UTF_8), g);
      return g.build();
    } catch (InvalidProtocolBufferException | TextFormat.ParseException e) {
      throw new IllegalStateException("a seed graph does not parse", e);
    }
  }

  private static void mutateSavedModel(Path sm, Random r, StringBuilder d) throws IOException {
    Path pb = sm.resolve("saved_model.pb");
    List<Path> vars = new ArrayList<>();
    if (Files.isDirectory(sm.resolve("variables"))) {
      try (var s = Files.list(sm.resolve("variables"))) {
        vars.addAll(s.sorted().toList());
      }
    }
    int what = r.nextInt(10);
    if (what < 5) {
      SavedModel m = SavedModel.parseFrom(Files.readAllBytes(pb));
      SavedModel.Builder b = m.toBuilder();
      MetaGraphDef.Builder mg = b.getMetaGraphsBuilder(0);
      if (what < 3) {
        mg.setGraphDef(GraphMutator.mutate(mg.getGraphDef(), r, d));
      } else if (what == 3) {
        var sigs = new ArrayList<>(mg.getSignatureDefMap().keySet());
        String key = sigs.isEmpty() ? "serving_default" : sigs.get(r.nextInt(sigs.size()));
        var sig = mg.getSignatureDefMap().getOrDefault(key, org.tensorflow.proto.SignatureDef.getDefaultInstance()).toBuilder();
        var ins = new ArrayList<>(sig.getInputsMap().keySet());
        if (!ins.isEmpty()) {
          String in = ins.get(r.nextInt(ins.size()));
          sig.putInputs(in, sig.getInputsMap().get(in).toBuilder()
              .setName(new String[] {"nosuch:0", "", "x:9", "save/Const:0"}[r.nextInt(4)]).build());
        }
        mg.putSignatureDef(key, sig.build());
        d.append("saved model: signature ").append(key).append(" input renamed; ");
      } else {
        mg.getMetaInfoDefBuilder().clearTags().addTags(r.nextBoolean() ? "train" : "");
        d.append("saved model: tags changed; ");
      }
      Files.write(pb, b.build().toByteArray());
    } else if (what < 7) {
      Files.write(pb, ByteMutator.mutate(Files.readAllBytes(pb), null, r, d));
    } else if (!vars.isEmpty()) {
      Path v = vars.get(r.nextInt(vars.size()));
      if (what == 9) {
        Files.delete(v);
        d.append("saved model: deleted ").append(v.getFileName()).append("; ");
      } else {
        Files.write(v, ByteMutator.mutate(Files.readAllBytes(v), null, r, d.append(v.getFileName()).append(": ")));
      }
    } else {
      Files.write(pb, ByteMutator.mutate(Files.readAllBytes(pb), null, r, d));
    }
  }

  private static void mutateConverted(Path conv, Random r, StringBuilder d) throws IOException {
    int what = r.nextInt(10);
    Path seg = null;
    if (Files.isDirectory(conv.resolve("payloads"))) {
      try (var s = Files.list(conv.resolve("payloads"))) {
        seg = s.sorted().findFirst().orElse(null);
      }
    }
    if (what < 5) {
      Path m = conv.resolve("tftrt.json");
      Files.write(m, ManifestMutator.mutate(Files.readAllBytes(m), r, d));
    } else if (what == 5 && seg != null) {
      Files.write(seg, ByteMutator.mutate(Files.readAllBytes(seg), null, r, d.append("segment: ")));
    } else if (what == 6) {
      String f = new String[] {"saved_model.pb", "saved_model.pb", "frozen.pb"}[r.nextInt(3)];
      Path p = conv.resolve(f);
      GraphDef g = f.equals("saved_model.pb")
          ? SavedModel.parseFrom(Files.readAllBytes(p)).getMetaGraphs(0).getGraphDef() : GraphDef.parseFrom(Files.readAllBytes(p));
      g = GraphMutator.mutate(g, r, d.append(f).append(": "));
      if (f.equals("saved_model.pb")) {
        SavedModel.Builder sm = SavedModel.parseFrom(Files.readAllBytes(p)).toBuilder();
        sm.getMetaGraphsBuilder(0).setGraphDef(g);
        Files.write(p, sm.build().toByteArray());
      } else {
        Files.write(p, g.toByteArray());
      }
    } else if (what == 7) {
      String f = new String[] {"tftrt.json", "report.md", "saved_model.pb", "frozen.pb", "frozen.json", "report.json"}[r.nextInt(6)];
      Files.deleteIfExists(conv.resolve(f));
      d.append("converted: deleted ").append(f).append("; ");
    } else if (what == 8 && seg != null) {
      Files.delete(seg);
      Path target = r.nextBoolean() ? Path.of("/etc/passwd") : conv.getParent().resolve("secret.txt");
      Files.createSymbolicLink(seg, target);
      d.append("segment: symlink to ").append(target.getFileName()).append("; ");
    } else {
      Path p = conv.resolve(new String[] {"saved_model.pb", "tftrt.json", "frozen.json"}[r.nextInt(3)]);
      Files.write(p, ByteMutator.mutate(Files.readAllBytes(p), null, r, d.append(p.getFileName()).append(": ")));
    }
  }

  /** -o at things the command did not write: the input, its folder, a folder of other files, "". */
  private FuzzCase outPathCase(String id, long index, Random r, Path dir) throws IOException {
    Seeds.Model m = seeds.graphs.get(0);
    FuzzFiles.copy(m.path(), dir.resolve("in/model.pb"));
    Files.writeString(dir.resolve("in/notes.txt"), "the user's own file\n");
    Files.createDirectories(dir.resolve("out/photos"));
    Files.writeString(dir.resolve("out/photos/cat.jpg"), "not a model\n");
    FuzzFiles.copy(seeds.converted.get(1).path(), dir.resolve("out/old_conv"));
    // The user's files named exactly as a dead run's temporaries and set-aside targets would be
    // (pid 1 is never a tftrt run): names prove nothing, so they must survive every write.
    Files.createDirectories(dir.resolve("out/photos/.new.tftrt-1-0000beef.tmp"));
    Files.writeString(dir.resolve("out/photos/.new.tftrt-1-0000beef.tmp/thesis.tex"), "years of work\n");
    Files.writeString(dir.resolve("out/photos/.new.tftrt-1-0000cafe.old"), "an old draft\n");
    Files.writeString(dir.resolve("out/photos/.new.json.tftrt-1-00000001.tmp"), "mine\n");
    String target = r.nextBoolean() ? "convert" : r.nextBoolean() ? "freeze" : "export-onnx";
    String[] places = {"{case}/in/model.pb", "{case}/in", "{case}", "{case}/out/photos", "{case}/out/photos/cat.jpg",
        "{case}/out/old_conv", "", ".", "{case}/in/notes.txt", "{case}/out/photos/new"};
    String o = places[r.nextInt(places.length)];
    List<String> args = new ArrayList<>(List.of(target, "{case}/in/model.pb", "-o", o));
    if (target.equals("freeze")) args.add("--no-verify");
    List<String> outs = o.equals("{case}/out/photos/new") ? List.of("photos/new", "photos/new.json") : List.of();
    return new FuzzCase(id, campaignSeed, index, "out-path", target, args, outs, "-o '" + o + "'");
  }

  /** Inputs no mutation of a seed makes: deep nesting, FIFOs, empty files, a folder named .pb. */
  private FuzzCase handmade(String id, long index, Random r, Path dir) throws IOException {
    Path in = dir.resolve("in");
    String target = new String[] {"inspect", "freeze", "run"}[r.nextInt(3)];
    List<String> args = new ArrayList<>(List.of(target, "{case}/in/model.pb"));
    String desc;
    switch (r.nextInt(8)) {
      case 7 -> {
        // A FIFO never ends: reading it must be refused, not waited on.
        fifo(in.resolve("model.pb"));
        desc = "a FIFO named model.pb";
      }
      case 0 -> {
        int depth = new int[] {100, 20000}[r.nextInt(2)];
        Files.writeString(in.resolve("model.pbtxt"), GraphMutator.deepText(depth));
        args.set(1, "{case}/in/model.pbtxt");
        desc = "text GraphDef nested " + depth + " deep";
      }
      case 1 -> {
        Files.write(in.resolve("model.pb"), new byte[0]);
        desc = "empty model file";
      }
      case 2 -> {
        Files.createDirectories(in.resolve("model.pb"));
        desc = "a folder named model.pb";
      }
      case 3 -> {
        // A message nested deeper than protobuf's recursion limit: GraphDef.library.function...
        byte[] inner = new byte[0];
        for (int i = 0; i < 200; i++) inner = nest(inner);
        Files.write(in.resolve("model.pb"), inner);
        desc = "binary GraphDef nested 200 deep";
      }
      case 4 -> {
        Files.createSymbolicLink(in.resolve("model.pb"), Path.of("/nonexistent/model.pb"));
        desc = "dangling symlink";
      }
      case 5 -> {
        Files.write(in.resolve("model.pb"), GraphMutator.deepText(3).getBytes(StandardCharsets.UTF_8));
        desc = "text GraphDef in a .pb file";
      }
      default -> {
        Files.writeString(in.resolve("model.pb"), "\u0000".repeat(1000));
        desc = "1000 NUL bytes";
      }
    }
    if (target.equals("freeze")) {
      args.add("-o");
      args.add("{case}/out/f.pb");
    }
    if (target.equals("run")) args.add("--random");
    return new FuzzCase(id, campaignSeed, index, "handmade", target, args,
        target.equals("freeze") ? List.of("f.pb", "f.json") : List.of(), desc);
  }

  static void fifo(Path p) throws IOException {
    try {
      if (new ProcessBuilder("mkfifo", p.toString()).inheritIO().start().waitFor() != 0) {
        throw new IOException("mkfifo " + p + " failed");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /** Wraps a message as field 1 (length-delimited) of another: node { ... } as protobuf sees it. */
  private static byte[] nest(byte[] inner) {
    java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
    o.write(0x0a);
    int len = inner.length;
    while (len >= 0x80) {
      o.write(len & 0x7f | 0x80);
      len >>>= 7;
    }
    o.write(len);
    o.writeBytes(inner);
    return o.toByteArray();
  }

  private static <T> T pick(List<T> l, Random r) {
    return l.get(r.nextInt(l.size()));
  }
}
