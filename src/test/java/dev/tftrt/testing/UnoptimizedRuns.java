package dev.tftrt.testing;

import dev.tftrt.model.TensorNames;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * Runs a SavedModel signature or a GraphDef with TensorFlow's graph optimizer (Grappler) off,
 * so that two graphs can be compared for what they compute rather than for how TensorFlow
 * rewrote them: Grappler fuses and folds a graph of constants (a frozen graph) differently from
 * one that reads variables inside functions, which changes float rounding, not results.
 */
public final class UnoptimizedRuns {
  private UnoptimizedRuns() {}

  public static ConfigProto grapplerOff() {
    return ConfigProto.newBuilder().setGraphOptions(GraphOptions.newBuilder()
        .setRewriteOptions(RewriterConfig.newBuilder().setDisableMetaOptimizer(true))).build();
  }

  /** The signature's outputs by key, for feeds by input key. */
  public static Map<String, HostTensor> savedModel(Path dir, String signature, Map<String, HostTensor> feeds) {
    try (SavedModelBundle b = SavedModelBundle.loader(dir.toString()).withTags("serve")
        .withConfigProto(grapplerOff()).load()) {
      SignatureDef sig = b.metaGraphDef().getSignatureDefOrThrow(signature);
      Map<String, String> ins = new LinkedHashMap<>();
      for (Map.Entry<String, TensorInfo> e : sig.getInputsMap().entrySet()) ins.put(e.getKey(), e.getValue().getName());
      Map<String, String> outs = new LinkedHashMap<>();
      for (Map.Entry<String, TensorInfo> e : sig.getOutputsMap().entrySet()) outs.put(e.getKey(), e.getValue().getName());
      return run(b.session(), ins, outs, feeds);
    }
  }

  /** A graph's outputs by key, for feeds by input key. */
  public static Map<String, HostTensor> graph(GraphDef g, List<TensorSpec> inputs, List<TensorSpec> outputs,
      Map<String, HostTensor> feeds) {
    Map<String, String> ins = new LinkedHashMap<>();
    for (TensorSpec s : inputs) ins.put(s.key(), s.tensor());
    Map<String, String> outs = new LinkedHashMap<>();
    for (TensorSpec s : outputs) outs.put(s.key(), s.tensor());
    try (Graph graph = TfGraphs.importGraph(g); Session s = new Session(graph, grapplerOff())) {
      return run(s, ins, outs, feeds);
    }
  }

  private static Map<String, HostTensor> run(Session s, Map<String, String> ins, Map<String, String> outs,
      Map<String, HostTensor> feeds) {
    Session.Runner r = s.runner();
    List<Tensor> fed = new ArrayList<>();
    try {
      for (Map.Entry<String, HostTensor> e : feeds.entrySet()) {
        String tensor = ins.get(e.getKey());
        if (tensor == null) throw new IllegalArgumentException("no input '" + e.getKey() + "' in " + ins.keySet());
        Tensor t = e.getValue().toTensor();
        fed.add(t);
        r.feed(TensorNames.canonical(tensor), t);
      }
      List<String> keys = new ArrayList<>(outs.keySet());
      for (String k : keys) r.fetch(TensorNames.canonical(outs.get(k)));
      Map<String, HostTensor> result = new LinkedHashMap<>();
      try (Result res = r.run()) {
        for (int i = 0; i < keys.size(); i++) result.put(keys.get(i), HostTensor.fromTensor(res.get(i)));
      }
      return result;
    } finally {
      for (Tensor t : fed) t.close();
    }
  }
}
