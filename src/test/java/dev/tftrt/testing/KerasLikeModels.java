package dev.tftrt.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.GraphOperationBuilder;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.ResourceHandleProto;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;

/**
 * SavedModels laid out the way TF2 Keras writes them, built with TensorFlow Java (there is no
 * Python TensorFlow here to run Keras itself):
 *
 * <ul>
 *   <li>resource variables: a top-level {@code VarHandleOp} per weight with {@code shared_name}
 *       (and the {@code NAME/Read/ReadVariableOp} TF2 adds beside it), restored by a
 *       {@code StatefulPartitionedCall} to a {@code __traced_restore} function
 *       ({@code RestoreV2} + {@code AssignVariableOp}) named by the SaverDef, with a matching
 *       {@code __traced_save} function; one variable is not checkpointed but assigned by the init
 *       op ({@code NoOp}, named by the {@code __saved_model_init_op} signature and the
 *       {@code saved_model_main_op} collection), as TF2 does for an asset path;</li>
 *   <li>each signature is a top-level {@code StatefulPartitionedCall} to a signature wrapper
 *       function, its variables passed in as resource inputs (captures); the wrapper calls the
 *       model's function, which calls layer functions ({@code StatefulPartitionedCall}, and a
 *       {@code PartitionedCall} for a stateless layer); inside functions weights are read by
 *       {@code ReadVariableOp}, results leave through {@code Identity(..., ^NoOp)} with the NoOp
 *       waiting on the reads, and the stateful nodes are the functions' control outputs;</li>
 *   <li>function bodies are made by TensorFlow's own graph-to-function conversion (TF Java's
 *       {@link ConcreteFunction}, the same C API Python uses), so edges read
 *       {@code node:output_arg:index} as in a Keras SavedModel.</li>
 * </ul>
 *
 * What TF Java cannot do and how it is worked around: its {@code SavedModelBundle.exporter}
 * saves only {@code VariableV2} variables (its saver ignores {@code VarHandleOp}) and writes
 * TF1-style init ops, so the checkpoint is written here by a {@code SaveV2} over the weight
 * values and {@code saved_model.pb} is assembled as a proto; TF Java functions get no control
 * outputs and no resource {@code handle_data}, so those are added to the FunctionDefs before
 * saving; function names carry TF Java's random suffix instead of Keras's numeric one; there is
 * no object graph ({@code object_graph_def}), which only Python's loader reads.
 */
public final class KerasLikeModels {
  private KerasLikeModels() {}

  private static final DataType F = DataType.DT_FLOAT;

  // ------------------------------------------------------------------ model A: a conv net

  /** Signature input of {@link #saveConvNet}. */
  public static final String CONV_INPUT = "input_1";
  /** serving_default outputs of {@link #saveConvNet}. */
  public static final String CONV_PROBABILITIES = "probabilities";
  public static final String CONV_EMBEDDING = "embedding";
  /** The second signature of {@link #saveConvNet} and its output. */
  public static final String CONV_FEATURES_SIGNATURE = "features";
  public static final String CONV_FEATURES = "conv_features";

  /**
   * A Keras-like functional image model, input_1 float32[?,16,16,3]: rescaling by a variable
   * (assigned by the init op, not checkpointed), conv2d 3x3x3x8 SAME + bias + relu (a layer
   * function), batch normalization in inference mode (FusedBatchNormV3, is_training false),
   * 2x2 max-pool, flatten (a stateless layer function, PartitionedCall), dense 512→16 + relu,
   * dense 16→10 + softmax. Signatures: serving_default → probabilities [?,10], embedding [?,16]
   * (the dense relu); features → conv_features [?,8,8,8] (the max-pool), a second wrapper
   * and model function calling the same conv2d layer function with fewer captures.
   */
  public static void saveConvNet(Path dir, long seed) {
    Random rnd = new Random(seed);
    Weights w = new Weights();
    w.initOnly("rescaling/scale", Shape.scalar(), new float[] {0.5f + rnd.nextFloat()});
    w.checkpointed("conv2d/kernel", "layer_with_weights-0/kernel", Shape.of(3, 3, 3, 8), he(rnd, 27, 3 * 3 * 3 * 8));
    w.checkpointed("conv2d/bias", "layer_with_weights-0/bias", Shape.of(8), normal(rnd, 0.05f, 0f, 8));
    w.checkpointed("batch_normalization/gamma", "layer_with_weights-1/gamma", Shape.of(8), normal(rnd, 0.1f, 1f, 8));
    w.checkpointed("batch_normalization/beta", "layer_with_weights-1/beta", Shape.of(8), normal(rnd, 0.1f, 0f, 8));
    w.checkpointed("batch_normalization/moving_mean", "layer_with_weights-1/moving_mean", Shape.of(8),
        normal(rnd, 0.1f, 0f, 8));
    w.checkpointed("batch_normalization/moving_variance", "layer_with_weights-1/moving_variance", Shape.of(8),
        positive(normal(rnd, 0.1f, 1f, 8)));
    w.checkpointed("dense/kernel", "layer_with_weights-2/kernel", Shape.of(512, 16), he(rnd, 512, 512 * 16));
    w.checkpointed("dense/bias", "layer_with_weights-2/bias", Shape.of(16), normal(rnd, 0.05f, 0f, 16));
    w.checkpointed("dense_1/kernel", "layer_with_weights-3/kernel", Shape.of(16, 10), he(rnd, 16, 160));
    w.checkpointed("dense_1/bias", "layer_with_weights-3/bias", Shape.of(10), normal(rnd, 0.05f, 0f, 10));

    List<Fn> open = new ArrayList<>();
    try {
      // conv2d layer: Conv2D + BiasAdd + Relu, weights read inside.
      Fn conv = fn("__inference_conv2d_layer_call_and_return_conditional_losses", f -> {
        Output<?> x = f.placeholder("inputs", F, Shape.of(-1, 16, 16, 3));
        Output<?> k = f.resourceArg("conv2d_readvariableop_resource", "conv2d/kernel");
        Output<?> b = f.resourceArg("biasadd_readvariableop_resource", "conv2d/bias");
        Output<?> kr = f.read("Conv2D/ReadVariableOp", k);
        Output<?> y = f.op("Conv2D", "Conv2D", o -> o.setAttr("strides", new long[] {1, 1, 1, 1})
            .setAttr("padding", "SAME").setAttr("data_format", "NHWC"), x, kr);
        Output<?> br = f.read("BiasAdd/ReadVariableOp", b);
        y = f.op("BiasAdd", "BiasAdd", o -> o.setAttr("data_format", "NHWC"), y, br);
        y = f.op("Relu", "Relu", o -> { }, y);
        return f.signature(List.of(x, k, b), f.kerasOutputs(List.of(y), List.of(kr, br)));
      });
      open.add(conv);
      // flatten layer: stateless, so called through PartitionedCall.
      Fn flatten = fn("__inference_flatten_layer_call_and_return_conditional_losses", f -> {
        Output<?> x = f.placeholder("inputs", F, Shape.of(-1, 8, 8, 8));
        Output<?> s = f.constInts("Const", -1, 512);
        Output<?> y = f.op("Reshape", "Reshape", o -> { }, x, s);
        return f.signature(List.of(x), List.of(f.identity("Identity", y, List.of())));
      });
      open.add(flatten);

      // The model's call: rescaling, conv2d (call), batch norm, max-pool, flatten (call), dense, dense_1.
      Fn model = fn("__inference_model_layer_call_and_return_conditional_losses", f -> {
        Output<?> x = f.placeholder("input_1", F, Shape.of(-1, 16, 16, 3));
        Map<String, Output<?>> r = f.resourceArgs(w, "rescaling/scale", "conv2d/kernel", "conv2d/bias",
            "batch_normalization/gamma", "batch_normalization/beta", "batch_normalization/moving_mean",
            "batch_normalization/moving_variance", "dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias");
        List<Output<?>> stateful = new ArrayList<>();
        Output<?> y = convTrunk(f, x, r, conv, stateful);
        y = f.call("flatten/PartitionedCall", flatten, List.of(y)).get(0);
        y = f.dense("dense", y, r, stateful);
        Output<?> embedding = f.op("Relu", "dense/Relu", o -> { }, y);
        y = f.dense("dense_1", embedding, r, stateful);
        Output<?> probs = f.op("Softmax", "dense_1/Softmax", o -> { }, y);
        List<Output<?>> ins = new ArrayList<>(List.of(x));
        ins.addAll(r.values());
        return f.signature(ins, f.kerasOutputs(List.of(probs, embedding), stateful));
      });
      open.add(model);
      Fn features = fn("__inference_features", f -> {
        Output<?> x = f.placeholder("input_1", F, Shape.of(-1, 16, 16, 3));
        Map<String, Output<?>> r = f.resourceArgs(w, "rescaling/scale", "conv2d/kernel", "conv2d/bias",
            "batch_normalization/gamma", "batch_normalization/beta", "batch_normalization/moving_mean",
            "batch_normalization/moving_variance");
        List<Output<?>> stateful = new ArrayList<>();
        Output<?> y = convTrunk(f, x, r, conv, stateful);
        List<Output<?>> ins = new ArrayList<>(List.of(x));
        ins.addAll(r.values());
        return f.signature(ins, f.kerasOutputs(List.of(y), stateful));
      });
      open.add(features);

      Fn servingWrapper = wrapper("__inference_signature_wrapper_serving_default", model);
      open.add(servingWrapper);
      Fn featuresWrapper = wrapper("__inference_signature_wrapper_features", features);
      open.add(featuresWrapper);

      // Outputs of the model function: 0 probabilities, 1 embedding.
      save(dir, w, List.of(
          new SignatureSpec("serving_default", CONV_INPUT, Shape.of(-1, 16, 16, 3), servingWrapper,
              new String[] {CONV_PROBABILITIES, CONV_EMBEDDING},
              new Shape[] {Shape.of(-1, 10), Shape.of(-1, 16)}),
          new SignatureSpec(CONV_FEATURES_SIGNATURE, CONV_INPUT, Shape.of(-1, 16, 16, 3), featuresWrapper,
              new String[] {CONV_FEATURES}, new Shape[] {Shape.of(-1, 8, 8, 8)})), open);
    } finally {
      closeFns(open);
    }
  }

  /** rescaling, conv2d (a layer-function call), batch norm (FusedBatchNormV3, inference), max-pool. */
  private static Output<?> convTrunk(FnGraph f, Output<?> x, Map<String, Output<?>> r, Fn conv,
      List<Output<?>> stateful) {
    Output<?> scale = f.read("rescaling/ReadVariableOp", r.get("rescaling/scale"));
    stateful.add(scale);
    Output<?> y = f.op("Mul", "rescaling/mul", o -> { }, x, scale);
    List<Output<?>> called = f.call("conv2d/StatefulPartitionedCall", conv,
        List.of(y, r.get("conv2d/kernel"), r.get("conv2d/bias")));
    stateful.add(called.get(0));
    Output<?> gamma = f.read("batch_normalization/ReadVariableOp", r.get("batch_normalization/gamma"));
    Output<?> beta = f.read("batch_normalization/ReadVariableOp_1", r.get("batch_normalization/beta"));
    Output<?> mean = f.read("batch_normalization/FusedBatchNormV3/ReadVariableOp",
        r.get("batch_normalization/moving_mean"));
    Output<?> var = f.read("batch_normalization/FusedBatchNormV3/ReadVariableOp_1",
        r.get("batch_normalization/moving_variance"));
    stateful.addAll(List.of(gamma, beta, mean, var));
    y = f.op("FusedBatchNormV3", "batch_normalization/FusedBatchNormV3", o -> o.setAttr("U", F)
        .setAttr("epsilon", 0.001f).setAttr("is_training", false).setAttr("data_format", "NHWC")
        .setAttr("exponential_avg_factor", 1f), called.get(0), gamma, beta, mean, var);
    return f.op("MaxPool", "max_pooling2d/MaxPool", o -> o.setAttr("ksize", new long[] {1, 2, 2, 1})
        .setAttr("strides", new long[] {1, 2, 2, 1}).setAttr("padding", "VALID").setAttr("data_format", "NHWC"), y);
  }

  // ------------------------------------------------------------------ model B: shared dense layer

  /** Signature input and output of {@link #saveSharedDenseNet}. */
  public static final String MLP_INPUT = "inputs";
  public static final String MLP_OUTPUT = "output_0";
  /** Its second signature, the one Keras 3's export names "serve" beside serving_default. */
  public static final String MLP_SERVE_SIGNATURE = "serve";

  /**
   * A Keras-like model with a shared layer, inputs float32[?,20]: dense 20→20 + relu applied
   * twice (the same layer function called twice with the same captured variables), batch
   * normalization in inference mode on a 2-D input (unfused, as Keras writes it: moving_variance +
   * eps, Rsqrt, Mul, Sub, AddV2), dense_1 20→5 + softmax → output_0 float32[?,5]. Two signatures,
   * serving_default and serve, whose call nodes share one wrapper function (as Keras 3's export
   * writes them).
   */
  public static void saveSharedDenseNet(Path dir, long seed) {
    Random rnd = new Random(seed);
    Weights w = new Weights();
    w.checkpointed("dense/kernel", "layer_with_weights-0/kernel", Shape.of(20, 20), he(rnd, 20, 400));
    w.checkpointed("dense/bias", "layer_with_weights-0/bias", Shape.of(20), normal(rnd, 0.05f, 0f, 20));
    w.checkpointed("batch_normalization/gamma", "layer_with_weights-1/gamma", Shape.of(20), normal(rnd, 0.1f, 1f, 20));
    w.checkpointed("batch_normalization/beta", "layer_with_weights-1/beta", Shape.of(20), normal(rnd, 0.1f, 0f, 20));
    w.checkpointed("batch_normalization/moving_mean", "layer_with_weights-1/moving_mean", Shape.of(20),
        normal(rnd, 0.2f, 0.5f, 20));
    w.checkpointed("batch_normalization/moving_variance", "layer_with_weights-1/moving_variance", Shape.of(20),
        positive(normal(rnd, 0.2f, 1f, 20)));
    w.checkpointed("dense_1/kernel", "layer_with_weights-2/kernel", Shape.of(20, 5), he(rnd, 20, 100));
    w.checkpointed("dense_1/bias", "layer_with_weights-2/bias", Shape.of(5), normal(rnd, 0.05f, 0f, 5));

    List<Fn> open = new ArrayList<>();
    try {
      Fn dense = fn("__inference_dense_layer_call_and_return_conditional_losses", f -> {
        Output<?> x = f.placeholder("inputs", F, Shape.of(-1, 20));
        Output<?> k = f.resourceArg("matmul_readvariableop_resource", "dense/kernel");
        Output<?> b = f.resourceArg("biasadd_readvariableop_resource", "dense/bias");
        Output<?> kr = f.read("MatMul/ReadVariableOp", k);
        Output<?> y = f.op("MatMul", "MatMul", o -> { }, x, kr);
        Output<?> br = f.read("BiasAdd/ReadVariableOp", b);
        y = f.op("BiasAdd", "BiasAdd", o -> { }, y, br);
        y = f.op("Relu", "Relu", o -> { }, y);
        return f.signature(List.of(x, k, b), f.kerasOutputs(List.of(y), List.of(kr, br)));
      });
      open.add(dense);
      Fn model = fn("__inference_sequential_layer_call_and_return_conditional_losses", f -> {
        Output<?> x = f.placeholder("inputs", F, Shape.of(-1, 20));
        Map<String, Output<?>> r = f.resourceArgs(w, "dense/kernel", "dense/bias", "batch_normalization/gamma",
            "batch_normalization/beta", "batch_normalization/moving_mean", "batch_normalization/moving_variance",
            "dense_1/kernel", "dense_1/bias");
        List<Output<?>> stateful = new ArrayList<>();
        Output<?> h = f.call("dense/StatefulPartitionedCall", dense,
            List.of(x, r.get("dense/kernel"), r.get("dense/bias"))).get(0);
        stateful.add(h);
        h = f.call("dense/StatefulPartitionedCall_1", dense,
            List.of(h, r.get("dense/kernel"), r.get("dense/bias"))).get(0);
        stateful.add(h);
        // Keras' unfused inference batch norm.
        Output<?> var = f.read("batch_normalization/batchnorm/ReadVariableOp", r.get("batch_normalization/moving_variance"));
        Output<?> eps = f.constFloat("batch_normalization/batchnorm/add/y", Shape.scalar(), 0.001f);
        Output<?> t = f.op("AddV2", "batch_normalization/batchnorm/add", o -> { }, var, eps);
        t = f.op("Rsqrt", "batch_normalization/batchnorm/Rsqrt", o -> { }, t);
        Output<?> gamma = f.read("batch_normalization/batchnorm/mul/ReadVariableOp", r.get("batch_normalization/gamma"));
        Output<?> mul = f.op("Mul", "batch_normalization/batchnorm/mul", o -> { }, t, gamma);
        Output<?> mul1 = f.op("Mul", "batch_normalization/batchnorm/mul_1", o -> { }, h, mul);
        Output<?> mean = f.read("batch_normalization/batchnorm/ReadVariableOp_1", r.get("batch_normalization/moving_mean"));
        Output<?> mul2 = f.op("Mul", "batch_normalization/batchnorm/mul_2", o -> { }, mean, mul);
        Output<?> beta = f.read("batch_normalization/batchnorm/ReadVariableOp_2", r.get("batch_normalization/beta"));
        Output<?> sub = f.op("Sub", "batch_normalization/batchnorm/sub", o -> { }, beta, mul2);
        Output<?> y = f.op("AddV2", "batch_normalization/batchnorm/add_1", o -> { }, mul1, sub);
        stateful.addAll(List.of(var, gamma, mean, beta));
        y = f.dense("dense_1", y, r, stateful);
        y = f.op("Softmax", "dense_1/Softmax", o -> { }, y);
        List<Output<?>> ins = new ArrayList<>(List.of(x));
        ins.addAll(r.values());
        return f.signature(ins, f.kerasOutputs(List.of(y), stateful));
      });
      open.add(model);
      Fn wrapper = wrapper("__inference_signature_wrapper_serve", model);
      open.add(wrapper);
      save(dir, w, List.of(
          new SignatureSpec("serving_default", MLP_INPUT, Shape.of(-1, 20), wrapper, new String[] {MLP_OUTPUT},
              new Shape[] {Shape.of(-1, 5)}),
          new SignatureSpec(MLP_SERVE_SIGNATURE, MLP_INPUT, Shape.of(-1, 20), wrapper, new String[] {MLP_OUTPUT},
              new Shape[] {Shape.of(-1, 5)})), open);
    } finally {
      closeFns(open);
    }
  }

  // ------------------------------------------------------------------ model C: many variables

  /**
   * A deep Keras-like MLP, inputs float32[?,width] → output_0 float32[?,width]: {@code layers}
   * dense layers (dense, dense_1, ...) of width→width + relu in one model function, so
   * 2 × layers resource variables; what freezing time is measured on.
   */
  public static void saveDeepDenseNet(Path dir, long seed, int layers, int width) {
    Random rnd = new Random(seed);
    Weights w = new Weights();
    List<String> vars = new ArrayList<>();
    for (int i = 0; i < layers; i++) {
      String layer = i == 0 ? "dense" : "dense_" + i;
      w.checkpointed(layer + "/kernel", "layer_with_weights-" + i + "/kernel", Shape.of(width, width),
          he(rnd, width, width * width));
      w.checkpointed(layer + "/bias", "layer_with_weights-" + i + "/bias", Shape.of(width),
          normal(rnd, 0.05f, 0f, width));
      vars.add(layer + "/kernel");
      vars.add(layer + "/bias");
    }
    List<Fn> open = new ArrayList<>();
    try {
      Fn model = fn("__inference_sequential_layer_call_and_return_conditional_losses", f -> {
        Output<?> x = f.placeholder("inputs", F, Shape.of(-1, width));
        Map<String, Output<?>> r = f.resourceArgs(w, vars.toArray(new String[0]));
        List<Output<?>> stateful = new ArrayList<>();
        Output<?> y = x;
        for (int i = 0; i < layers; i++) {
          String layer = i == 0 ? "dense" : "dense_" + i;
          y = f.op("Relu", layer + "/Relu", o -> { }, f.dense(layer, y, r, stateful));
        }
        List<Output<?>> ins = new ArrayList<>(List.of(x));
        ins.addAll(r.values());
        return f.signature(ins, f.kerasOutputs(List.of(y), stateful));
      });
      open.add(model);
      Fn wrapper = wrapper("__inference_signature_wrapper", model);
      open.add(wrapper);
      save(dir, w, List.of(new SignatureSpec("serving_default", MLP_INPUT, Shape.of(-1, width), wrapper,
          new String[] {MLP_OUTPUT}, new Shape[] {Shape.of(-1, width)})), open);
    } finally {
      closeFns(open);
    }
  }

  // ------------------------------------------------------------------ variables

  /** The model's variables: graph name → value, and the checkpoint key of those checkpointed. */
  private static final class Weights {
    final Map<String, Shape> shapes = new LinkedHashMap<>();
    final Map<String, float[]> values = new LinkedHashMap<>();
    final Map<String, String> checkpointKeys = new LinkedHashMap<>();

    void checkpointed(String name, String key, Shape shape, float[] v) {
      shapes.put(name, shape);
      values.put(name, v);
      checkpointKeys.put(name, key + "/.ATTRIBUTES/VARIABLE_VALUE");
    }

    void initOnly(String name, Shape shape, float[] v) {
      shapes.put(name, shape);
      values.put(name, v);
    }
  }

  // ------------------------------------------------------------------ functions

  /**
   * A function made by TF Java: its output types, whether it is stateful, and per input argument
   * the variable it reads (null for data arguments).
   */
  private record Fn(ConcreteFunction fn, List<DataType> outputTypes, boolean stateful, List<String> argVariables) {
    String name() {
      return fn.getDefinedName();
    }
  }

  private interface Body {
    Signature build(FnGraph f);
  }

  private static Fn fn(String name, Body body) {
    try (Graph g = new Graph()) {
      FnGraph f = new FnGraph(g, name);
      Signature sig = body.build(f);
      ConcreteFunction cf = ConcreteFunction.create(sig, g);
      closeAll(f.tensors);
      List<DataType> types = new ArrayList<>();
      for (OpDef.ArgDef a : cf.getFunctionDef().getSignature().getOutputArgList()) types.add(a.getType());
      // TF Java orders a function's outputs as its signature's; check that they come in the order given.
      checkOutputOrder(cf.getFunctionDef(), f.outputNodes);
      checkInputOrder(cf.getFunctionDef(), f.inputNodes);
      return new Fn(cf, types, cf.isStateful(), f.argVariables);
    }
  }

  private static void checkOutputOrder(FunctionDef fd, List<String> outputNodes) {
    List<OpDef.ArgDef> outs = fd.getSignature().getOutputArgList();
    for (int i = 0; i < outs.size(); i++) {
      String ret = fd.getRetMap().get(outs.get(i).getName());
      String node = ret.substring(0, ret.indexOf(':'));
      if (!node.equals(outputNodes.get(i))) {
        throw new IllegalStateException(fd.getSignature().getName() + ": output " + i + " is " + node
            + ", expected " + outputNodes.get(i));
      }
    }
  }

  private static void checkInputOrder(FunctionDef fd, List<String> inputNodes) {
    List<String> args = fd.getSignature().getInputArgList().stream().map(OpDef.ArgDef::getName).toList();
    if (!args.equals(inputNodes)) {
      throw new IllegalStateException(fd.getSignature().getName() + ": arguments " + args + ", expected " + inputNodes);
    }
  }

  /** A signature wrapper: calls the model function with all its arguments, one Identity per output. */
  private static Fn wrapper(String name, Fn model) {
    return fn(name, f -> {
      OpDef sig = model.fn.getFunctionDef().getSignature();
      List<Output<?>> ins = new ArrayList<>();
      int k = 0;
      for (OpDef.ArgDef a : sig.getInputArgList()) {
        if (a.getType() == DataType.DT_RESOURCE) {
          ins.add(f.resourceArg(k == 0 ? "unknown" : "unknown_" + (k - 1), model.argVariables.get(ins.size())));
          k++;
        } else {
          ins.add(f.placeholder(a.getName(), a.getType(), shapeOfArg(model.fn, ins.size())));
        }
      }
      List<Output<?>> outs = f.call("StatefulPartitionedCall", model, ins);
      return f.signature(ins, f.kerasOutputs(outs, List.of(outs.get(0))));
    });
  }

  private static Shape shapeOfArg(ConcreteFunction fn, int index) {
    AttrValue shapes = fn.getFunctionDef().getArgAttrOrThrow(index).getAttrOrThrow("_output_shapes");
    TensorShapeProto s = shapes.getList().getShape(0);
    long[] d = new long[s.getDimCount()];
    for (int i = 0; i < d.length; i++) d[i] = s.getDim(i).getSize();
    return Shape.of(d);
  }

  /** Builds ops with exact (Keras) names in a graph that becomes a function or the saved graph. */
  private static final class FnGraph {
    final Graph g;
    final String name;
    final List<String> outputNodes = new ArrayList<>();
    final List<String> inputNodes = new ArrayList<>();
    final List<String> argVariables = new ArrayList<>();
    final Map<String, String> variableOfArg = new LinkedHashMap<>();
    final List<AutoCloseable> tensors = new ArrayList<>();

    FnGraph(Graph g, String name) {
      this.g = g;
      this.name = name;
    }

    GraphOperationBuilder b(String type, String name) {
      return g.opBuilder(type, name, g.baseScope());
    }

    Output<?> placeholder(String name, DataType t, Shape s) {
      return b("Placeholder", name).setAttr("dtype", t).setAttr("shape", s).build().output(0);
    }

    /** A resource argument standing for the variable (null: none in particular). */
    Output<?> resourceArg(String name, String variable) {
      if (variable != null) variableOfArg.put(name, variable);
      return placeholder(name, DataType.DT_RESOURCE, Shape.scalar());
    }

    /** One resource argument per variable, named as Keras names them, in the order given. */
    Map<String, Output<?>> resourceArgs(Weights w, String... vars) {
      Map<String, Output<?>> r = new LinkedHashMap<>();
      for (String v : vars) {
        if (!w.shapes.containsKey(v)) throw new IllegalArgumentException(v);
        r.put(v, resourceArg(v.replace('/', '_') + "_readvariableop_resource", v));
      }
      return r;
    }

    Output<?> read(String name, Output<?> resource) {
      return b("ReadVariableOp", name).addInput(resource).setAttr("dtype", F).build().output(0);
    }

    Output<?> op(String type, String name, Consumer<GraphOperationBuilder> attrs, Output<?>... in) {
      GraphOperationBuilder ob = b(type, name);
      for (Output<?> i : in) ob.addInput(i);
      attrs.accept(ob);
      return ob.build().output(0);
    }

    Output<?> constFloat(String name, Shape s, float... v) {
      TFloat32 t = TFloat32.tensorOf(s, DataBuffers.of(v, true, false));
      tensors.add(t);
      return b("Const", name).setAttr("dtype", F).setAttr("value", t).build().output(0);
    }

    Output<?> constInts(String name, int... v) {
      TInt32 t = TInt32.vectorOf(v);
      tensors.add(t);
      return b("Const", name).setAttr("dtype", DataType.DT_INT32).setAttr("value", t).build().output(0);
    }

    Output<?> constStrings(String name, String... v) {
      Tensor t = v.length == 0 ? TString.scalarOf("") : TString.vectorOf(v);
      tensors.add(t);
      return b("Const", name).setAttr("dtype", DataType.DT_STRING).setAttr("value", t).build().output(0);
    }

    Output<?> identity(String name, Output<?> x, List<GraphOperation> control) {
      GraphOperationBuilder ob = b("Identity", name).addInput(x);
      for (GraphOperation c : control) ob.addControlInput(c);
      return ob.build().output(0);
    }

    /** Keras' ending: NoOp waiting on the stateful nodes, then Identity(result, ^NoOp) per output. */
    List<Output<?>> kerasOutputs(List<Output<?>> results, List<Output<?>> stateful) {
      GraphOperationBuilder nb = b("NoOp", "NoOp");
      for (Output<?> s : stateful) nb.addControlInput(s.op());
      GraphOperation noOp = nb.build();
      List<Output<?>> outs = new ArrayList<>();
      for (int i = 0; i < results.size(); i++) {
        outs.add(identity(i == 0 ? "Identity" : "Identity_" + i, results.get(i), List.of(noOp)));
      }
      return outs;
    }

    /** dense layer inline: MatMul + BiasAdd over the layer's kernel and bias (Keras' model-level names). */
    Output<?> dense(String layer, Output<?> x, Map<String, Output<?>> r, List<Output<?>> stateful) {
      Output<?> k = read(layer + "/MatMul/ReadVariableOp", r.get(layer + "/kernel"));
      Output<?> y = op("MatMul", layer + "/MatMul", o -> { }, x, k);
      Output<?> b = read(layer + "/BiasAdd/ReadVariableOp", r.get(layer + "/bias"));
      stateful.add(k);
      stateful.add(b);
      return op("BiasAdd", layer + "/BiasAdd", o -> { }, y, b);
    }

    /** A call node as Keras writes it: StatefulPartitionedCall, or PartitionedCall for a stateless function. */
    List<Output<?>> call(String name, Fn f, List<Output<?>> in) {
      boolean stateful = f.stateful;
      GraphOperationBuilder ob = b(stateful ? "StatefulPartitionedCall" : "PartitionedCall", name);
      ob.addInputList(in.toArray(new Output<?>[0]));
      DataType[] tin = new DataType[in.size()];
      List<Long> readOnly = new ArrayList<>();
      for (int i = 0; i < tin.length; i++) {
        tin[i] = in.get(i).dataType();
        if (tin[i] == DataType.DT_RESOURCE) readOnly.add((long) i);
      }
      ob.setAttr("Tin", tin).setAttr("Tout", f.outputTypes.toArray(new DataType[0])).setAttr("f", f.fn)
          .setAttr("config", "").setAttr("config_proto", "").setAttr("executor_type", "");
      if (stateful) {
        ob.setAttr("_read_only_resource_inputs", readOnly.stream().mapToLong(Long::longValue).toArray());
        ob.setAttr("_collective_manager_ids", AttrValue.newBuilder()
            .setList(AttrValue.ListValue.getDefaultInstance()).build());
      }
      GraphOperation op = ob.build();
      List<Output<?>> outs = new ArrayList<>();
      for (int i = 0; i < f.outputTypes.size(); i++) outs.add(op.output(i));
      return outs;
    }

    Signature signature(List<Output<?>> inputs, List<Output<?>> outputs) {
      Signature.Builder s = Signature.builder().key(name);
      for (Output<?> i : inputs) {
        s.input(i.op().name(), i);
        inputNodes.add(i.op().name());
        argVariables.add(variableOfArg.get(i.op().name()));
      }
      for (int i = 0; i < outputs.size(); i++) {
        s.output(String.format("output_%03d", i), outputs.get(i));
        outputNodes.add(outputs.get(i).op().name());
      }
      return s.build();
    }
  }

  // ------------------------------------------------------------------ saving

  private record SignatureSpec(String key, String input, Shape inputShape, Fn wrapper, String[] outputs,
      Shape[] outputShapes) {}

  private static void save(Path dir, Weights w, List<SignatureSpec> sigs, List<Fn> all) {
    try {
      Files.createDirectories(dir.resolve("variables"));
      Files.createDirectories(dir.resolve("assets"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> ckptVars = new ArrayList<>(w.checkpointKeys.keySet());
    Fn saveFn = fn("__inference__traced_save", f -> {
      Output<?> prefix = f.placeholder("file_prefix", DataType.DT_STRING, Shape.scalar());
      List<Output<?>> ins = new ArrayList<>(List.of(prefix));
      List<Output<?>> reads = new ArrayList<>();
      for (int i = 0; i < ckptVars.size(); i++) {
        Output<?> r = f.resourceArg("savev2_" + ckptVars.get(i).replace('/', '_') + "_read_readvariableop_resource",
            ckptVars.get(i));
        ins.add(r);
        reads.add(f.read("Read_" + i + "/ReadVariableOp", r));
      }
      Output<?> names = f.constStrings("SaveV2/tensor_names", ckptVars.stream().map(w.checkpointKeys::get).toArray(String[]::new));
      Output<?> slices = f.constStrings("SaveV2/shape_and_slices", ckptVars.stream().map(v -> "").toArray(String[]::new));
      GraphOperation save = f.b("SaveV2", "SaveV2").addInput(prefix).addInput(names).addInput(slices)
          .addInputList(reads.toArray(new Output<?>[0]))
          .setAttr("dtypes", ckptVars.stream().map(v -> F).toArray(DataType[]::new)).build();
      Output<?> out = f.identity("Identity", prefix, List.of(save));
      return f.signature(ins, List.of(out));
    });
    all.add(saveFn);
    Fn restoreFn = fn("__inference__traced_restore", f -> {
      Output<?> prefix = f.placeholder("file_prefix", DataType.DT_STRING, Shape.scalar());
      List<Output<?>> ins = new ArrayList<>(List.of(prefix));
      Output<?> names = f.constStrings("RestoreV2/tensor_names", ckptVars.stream().map(w.checkpointKeys::get).toArray(String[]::new));
      Output<?> slices = f.constStrings("RestoreV2/shape_and_slices", ckptVars.stream().map(v -> "").toArray(String[]::new));
      GraphOperation restore = f.b("RestoreV2", "RestoreV2").addInput(prefix).addInput(names).addInput(slices)
          .setAttr("dtypes", ckptVars.stream().map(v -> F).toArray(DataType[]::new)).build();
      List<GraphOperation> assigns = new ArrayList<>();
      for (int i = 0; i < ckptVars.size(); i++) {
        Output<?> r = f.resourceArg("assignvariableop_" + i + "_resource", ckptVars.get(i));
        ins.add(r);
        Output<?> v = f.identity("Identity_" + (i + 1), restore.output(i), List.of());
        assigns.add(f.b("AssignVariableOp", i == 0 ? "AssignVariableOp" : "AssignVariableOp_" + i)
            .addInput(r).addInput(v).setAttr("dtype", F).setAttr("validate_shape", false).build());
      }
      GraphOperationBuilder nb = f.b("NoOp", "NoOp_1");
      for (GraphOperation a : assigns) nb.addControlInput(a);
      Output<?> out = f.identity("Identity_" + (ckptVars.size() + 1), prefix, List.of(nb.build()));
      return f.signature(ins, List.of(out));
    });
    all.add(restoreFn);

    GraphDef graphDef;
    try (Graph g = new Graph()) {
      FnGraph t = new FnGraph(g, "saved");
      Map<String, Output<?>> handles = new LinkedHashMap<>();
      for (String v : w.shapes.keySet()) {
        Output<?> h = t.b("VarHandleOp", v).setAttr("dtype", F).setAttr("shape", w.shapes.get(v))
            .setAttr("shared_name", v).setAttr("container", "").build().output(0);
        handles.put(v, h);
        t.read(v + "/Read/ReadVariableOp", h);
      }
      // Variables not in the checkpoint are assigned by the init op, as TF2 does for asset paths.
      GraphOperationBuilder init = t.b("NoOp", "NoOp");
      for (String v : w.shapes.keySet()) {
        if (w.checkpointKeys.containsKey(v)) continue;
        Output<?> value = t.constFloat(v + "/Initializer/initial_value", w.shapes.get(v), w.values.get(v));
        init.addControlInput(t.b("AssignVariableOp", v + "/Assign").addInput(handles.get(v)).addInput(value)
            .setAttr("dtype", F).build());
      }
      init.build();
      int calls = 0;
      for (SignatureSpec s : sigs) {
        Output<?> x = t.placeholder(s.key() + "_" + s.input(), F, s.inputShape());
        List<Output<?>> ins = new ArrayList<>(List.of(x));
        for (String v : s.wrapper().argVariables.subList(1, s.wrapper().argVariables.size())) ins.add(handles.get(v));
        t.call(callName(calls++), s.wrapper(), ins);
      }
      Output<?> filename = t.placeholder("saver_filename", DataType.DT_STRING, Shape.scalar());
      List<Output<?>> saveIns = new ArrayList<>(List.of(filename));
      for (String v : ckptVars) saveIns.add(handles.get(v));
      String saveCall = callName(calls++);
      t.call(saveCall, saveFn, saveIns);
      String restoreCall = callName(calls++);
      t.call(restoreCall, restoreFn, saveIns);
      graphDef = withControlOutputs(g.toGraphDef(), w, all);
      closeAll(t.tensors);

      MetaGraphDef.Builder meta = MetaGraphDef.newBuilder()
          .setMetaInfoDef(MetaGraphDef.MetaInfoDef.newBuilder().addTags("serve")
              .setTensorflowVersion("2.18.0").setTensorflowGitVersion("unknown"))
          .setGraphDef(graphDef)
          .setSaverDef(SaverDef.newBuilder().setFilenameTensorName("saver_filename:0")
              .setSaveTensorName(saveCall + ":0").setRestoreOpName(restoreCall)
              .setVersion(SaverDef.CheckpointFormatVersion.V2))
          .putCollectionDef("saved_model_main_op", CollectionDef.newBuilder()
              .setNodeList(CollectionDef.NodeList.newBuilder().addValue("NoOp")).build())
          .putSignatureDef("__saved_model_init_op", SignatureDef.newBuilder()
              .putOutputs("__saved_model_init_op", TensorInfo.newBuilder().setName("NoOp")
                  .setTensorShape(TensorShapeProto.newBuilder().setUnknownRank(true)).build()).build());
      calls = 0;
      for (SignatureSpec s : sigs) {
        SignatureDef.Builder sd = SignatureDef.newBuilder().setMethodName("tensorflow/serving/predict")
            .putInputs(s.input(), TensorInfo.newBuilder().setName(s.key() + "_" + s.input() + ":0").setDtype(F)
                .setTensorShape(shapeProto(s.inputShape())).build());
        String call = callName(calls++);
        for (int i = 0; i < s.outputs().length; i++) {
          sd.putOutputs(s.outputs()[i], TensorInfo.newBuilder().setName(call + ":" + i).setDtype(F)
              .setTensorShape(shapeProto(s.outputShapes()[i])).build());
        }
        meta.putSignatureDef(s.key(), sd.build());
      }
      SavedModel sm = SavedModel.newBuilder().setSavedModelSchemaVersion(1).addMetaGraphs(meta).build();
      writeCheckpoint(dir.resolve("variables").resolve("variables"), w);
      Files.write(dir.resolve("saved_model.pb"), sm.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** StatefulPartitionedCall, StatefulPartitionedCall_1, ... as TF2 numbers its top-level calls. */
  private static String callName(int i) {
    return i == 0 ? "StatefulPartitionedCall" : "StatefulPartitionedCall_" + i;
  }

  /**
   * Keras' FunctionDefs name their stateful nodes (variable reads, assignments, calls, saves) as
   * control outputs; TF Java's have none, so they are added. Resource arguments get Keras'
   * handle_data (dtype and shape of the variable) where the variable is known.
   */
  private static GraphDef withControlOutputs(GraphDef g, Weights w, List<Fn> fns) {
    Map<String, List<String>> argVariables = new LinkedHashMap<>();
    for (Fn f : fns) argVariables.put(f.name(), f.argVariables);
    Set<String> stateful = Set.of("ReadVariableOp", "AssignVariableOp", "StatefulPartitionedCall", "SaveV2");
    FunctionDefLibrary.Builder lib = FunctionDefLibrary.newBuilder();
    for (FunctionDef f : g.getLibrary().getFunctionList()) {
      FunctionDef.Builder fb = f.toBuilder();
      OpDef.Builder sig = fb.getSignatureBuilder();
      for (NodeDef n : f.getNodeDefList()) {
        if (stateful.contains(n.getOp()) && !fb.containsControlRet(n.getName())) {
          sig.addControlOutput(n.getName());
          fb.putControlRet(n.getName(), n.getName());
        }
      }
      List<String> vars = argVariables.get(f.getSignature().getName());
      if (vars == null) throw new IllegalStateException("unknown function " + f.getSignature().getName());
      for (int i = 0; i < sig.getInputArgCount(); i++) {
        String v = vars.get(i);
        if (v != null) {
          sig.getInputArgBuilder(i).addHandleData(ResourceHandleProto.DtypeAndShape.newBuilder().setDtype(F)
              .setShape(shapeProto(w.shapes.get(v))));
        }
      }
      lib.addFunction(fb);
    }
    return g.toBuilder().setLibrary(lib).build();
  }

  private static TensorShapeProto shapeProto(Shape s) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    for (long d : s.asArray()) b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    return b.build();
  }

  /** Writes the checkpointed variables' values under their keys with TensorFlow's own SaveV2. */
  private static void writeCheckpoint(Path prefix, Weights w) {
    List<AutoCloseable> open = new ArrayList<>();
    try (Graph g = new Graph(); Session s = new Session(g)) {
      FnGraph t = new FnGraph(g, "checkpoint");
      List<String> vars = new ArrayList<>(w.checkpointKeys.keySet());
      List<Output<?>> values = new ArrayList<>();
      for (String v : vars) values.add(t.constFloat(v.replace('/', '_'), w.shapes.get(v), w.values.get(v)));
      TString p = TString.scalarOf(prefix.toString());
      open.add(p);
      Output<?> pc = t.b("Const", "prefix").setAttr("dtype", DataType.DT_STRING).setAttr("value", p).build().output(0);
      t.b("SaveV2", "save").addInput(pc)
          .addInput(t.constStrings("names", vars.stream().map(w.checkpointKeys::get).toArray(String[]::new)))
          .addInput(t.constStrings("slices", vars.stream().map(v -> "").toArray(String[]::new)))
          .addInputList(values.toArray(new Output<?>[0]))
          .setAttr("dtypes", vars.stream().map(v -> F).toArray(DataType[]::new)).build();
      s.run("save");
      open.addAll(t.tensors);
    } finally {
      closeAll(open);
    }
  }

  private static void closeFns(List<Fn> fns) {
    for (Fn f : fns) f.fn.close();
    fns.clear();
  }

  private static void closeAll(List<? extends AutoCloseable> open) {
    for (AutoCloseable c : open) {
      try {
        c.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    open.clear();
  }

  // ------------------------------------------------------------------ values

  private static float[] normal(Random rnd, float scale, float center, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = center + scale * (float) rnd.nextGaussian();
    return v;
  }

  private static float[] he(Random rnd, int fanIn, int n) {
    return normal(rnd, (float) Math.sqrt(2.0 / fanIn), 0f, n);
  }

  private static float[] positive(float[] v) {
    float[] r = Arrays.copyOf(v, v.length);
    for (int i = 0; i < r.length; i++) r[i] = Math.abs(r[i]) + 0.1f;
    return r;
  }
}
