"""``layerwise train | evaluate | predict | summary``: the image classifiers' commands."""
import numpy as np


def _add_train(sub):
    p = sub.add_parser("train", help="train a model on a dataset",
                       description="Train a model with a progress bar; write checkpoints, "
                                   "history.csv, curves.png and confusion_matrix.png to a "
                                   "run directory printed at the end.")
    p.add_argument("--model", default="seed003-cnn",
                   help="model name (see `layerwise summary --list`), default seed003-cnn")
    p.add_argument("--dataset", default="fashion-mnist",
                   help="fashion-mnist (default), mnist or kmnist")
    p.add_argument("--epochs", type=int, default=None, help="number of epochs (default 5)")
    p.add_argument("--batch-size", type=int, default=64, help="mini-batch size (default 64)")
    p.add_argument("--optimizer", default="adam",
                   choices=["sgd", "adam", "adamw", "rmsprop", "adagrad"])
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default 1e-3; 2e-4 for gan/dcgan, 0.05 for rbm/dbn)")
    p.add_argument("--momentum", type=float, default=0.0, help="momentum for sgd/rmsprop")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay")
    p.add_argument("--lr-schedule", default="none", choices=["none", "step", "cosine", "plateau"])
    p.add_argument("--augment", default="",
                   help="comma-separated augmentations, e.g. hflip,rotate=10,translate=0.1,"
                        "scale=0.9:1.1,crop=2,noise=0.05,saltpepper=0.02,erase=0.5")
    p.add_argument("--normalize", default="rescale", choices=["rescale", "standardize"],
                   help="rescale pixels to [0, 1] (default) or also standardize")
    p.add_argument("--val-split", type=float, default=0.1,
                   help="fraction of the training set held out for validation (default 0.1)")
    p.add_argument("--patience", type=int, default=None,
                   help="stop early after this many epochs without validation improvement")
    p.add_argument("--clip-grad-norm", type=float, default=None, help="clip gradients to this norm")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--data-dir", default=None, help="directory holding the dataset files")
    p.add_argument("--out", default=None, help="run directory (default runs/MODEL-DATASET-TIME)")
    p.add_argument("--resume", default=None, metavar="CHECKPOINT",
                   help="continue the run of this checkpoint (e.g. runs/x/last.safetensors)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar")
    p.add_argument("--distributed", action="store_true",  # issue 11
                   help="data-parallel over MPI: run under `mpiexec -n N python -m mpi4py -m "
                        "layerwise train ... --distributed`; --batch-size is the global batch "
                        "(B/N per rank), batch norm is synchronized, rank 0 writes the run "
                        "(image classifiers; needs pip install 'layerwise[mpi]')")
    g = p.add_argument_group("autoencoders, VAE, GANs, RBM, DBN")
    g.add_argument("--latent-dim", type=int, default=None,
                   help="code size of an autoencoder, latent size of vae/gan/dcgan")
    g.add_argument("--hidden-units", default=None,
                   help="hidden layer sizes, comma-separated (rbm: hidden units; dbn: 500,250)")
    g.add_argument("--k", type=int, default=1, help="Gibbs steps of CD-k (rbm, dbn; default 1)")
    g.add_argument("--persistent", action="store_true", help="persistent CD (rbm, dbn)")
    g.add_argument("--visible", default=None, choices=["bernoulli", "gaussian"],
                   help="visible units of rbm/dbn (default bernoulli: binarized pixels)")
    g.add_argument("--noise", default=None, choices=["gaussian", "saltpepper", "masking"],
                   help="corruption of denoising-autoencoder (default gaussian)")
    g.add_argument("--noise-level", type=float, default=None,
                   help="noise std or corrupted fraction (default 0.3)")
    g.add_argument("--sparsity-target", type=float, default=None,
                   help="sparse-autoencoder target activation rho (default 0.05)")
    g.add_argument("--sparsity-weight", type=float, default=None,
                   help="sparse-autoencoder penalty weight beta (default 3)")
    g.add_argument("--beta1", type=float, default=None, help="Adam beta1 of gan/dcgan (default 0.5)")
    g.add_argument("--fid-classifier", default=None, metavar="CHECKPOINT",
                   help="gan/dcgan: a classifier checkpoint for the classifier-FID")
    g.add_argument("--labels", type=int, default=None,
                   help="dbn: number of labelled images for fine-tuning (default all)")
    g.add_argument("--finetune-epochs", type=int, default=None,
                   help="dbn: fine-tuning epochs (default --epochs)")
    g.add_argument("--limit", type=int, default=None,
                   help="use only the first N training images (quick trials)")
    _add_sequence_options(p)
    _add_transformer_options(p)
    return p


def _add_sequence_options(p):
    g = p.add_argument_group("recurrent models (char-lstm, rnn-classifier, lstm-forecaster)")
    g.add_argument("--text", default=None, metavar="FILE",
                   help="char-lstm: a UTF-8 text file to learn (default: Debian's fortunes, "
                        "apt-get install fortunes)")
    g.add_argument("--vocab", default=None, choices=["char", "word"],
                   help="char-lstm: character (default) or word tokens")
    g.add_argument("--min-count", type=int, default=None,
                   help="char-lstm: tokens seen fewer times become the unknown token (default 1)")
    g.add_argument("--seq-len", type=int, default=None,
                   help="char-lstm: steps of truncated backpropagation through time (default 100)")
    g.add_argument("--cell", default=None, choices=["lstm", "gru", "rnn"],
                   help="recurrent layer (default lstm)")
    g.add_argument("--hidden-size", type=int, default=None,
                   help="hidden units per layer (char-lstm 256, rnn-classifier 128, "
                        "lstm-forecaster 64)")
    g.add_argument("--num-layers", type=int, default=None,
                   help="stacked recurrent layers (char-lstm 2, others 1)")
    g.add_argument("--embedding-dim", type=int, default=None,
                   help="char-lstm: embedding size (default 64)")
    g.add_argument("--dropout", type=float, default=None,
                   help="dropout between recurrent layers (char-lstm 0.2: also before the output)")
    g.add_argument("--bidirectional", action="store_true",
                   help="rnn-classifier: read the sequence both ways")
    g.add_argument("--series", default=None, choices=["sunspots", "co2"],
                   help="lstm-forecaster: the time series (statsmodels ships them; default "
                        "sunspots)")
    g.add_argument("--history", type=int, default=None,
                   help="lstm-forecaster: steps in each input window (sunspots 24, co2 36)")
    g.add_argument("--horizon", type=int, default=None,
                   help="lstm-forecaster: values predicted after each window (default 1)")
    g.add_argument("--clip-grad-value", type=float, default=None,
                   help="clamp every gradient entry to [-v, v] (recurrent models)")


def _add_transformer_options(p):
    g = p.add_argument_group("transformers (gpt-mini, seq2seq, text-classifier)")
    g.add_argument("--tokenizer", default=None, choices=["char", "word", "bpe"],
                   help="gpt-mini (default char) / text-classifier (default word): tokens")
    g.add_argument("--vocab-size", type=int, default=None,
                   help="bpe: number of tokens (default 1000); char/word: at most this many")
    g.add_argument("--block-size", type=int, default=None,
                   help="gpt-mini: context length in tokens (default 128); text-classifier: "
                        "tokens read per quote (default 128)")
    g.add_argument("--d-model", type=int, default=None,
                   help="transformer width (gpt-mini 128, seq2seq 128, text-classifier 64)")
    g.add_argument("--nhead", type=int, default=None, help="attention heads (default 4)")
    g.add_argument("--dim-feedforward", type=int, default=None,
                   help="feed-forward width (gpt-mini 4*d_model, seq2seq 256, classifier 128)")
    g.add_argument("--positional", default=None, choices=["learned", "sinusoidal"],
                   help="gpt-mini: positional encoding (default learned)")
    g.add_argument("--task", default=None, choices=["reverse", "sort", "dates"],
                   help="seq2seq: the task generated offline (default reverse)")
    g.add_argument("--arch", default=None,
                   choices=["gru", "gru-attention", "lstm", "lstm-attention", "transformer"],
                   help="seq2seq: encoder-decoder (default gru-attention)")
    g.add_argument("--min-length", type=int, default=None,
                   help="seq2seq: shortest input (default 1)")
    g.add_argument("--max-length", type=int, default=None,
                   help="seq2seq: longest input (default 24)")
    g.add_argument("--train-samples", type=int, default=None,
                   help="seq2seq: training pairs (default 20000)")
    g.add_argument("--test-samples", type=int, default=None,
                   help="seq2seq: test pairs (default 2000)")
    g.add_argument("--categories", default=None,
                   help="text-classifier: comma-separated fortunes files (default computers,"
                        "definitions,politics,science,songs-poems,zippy)")


def _add_evaluate(sub):
    p = sub.add_parser("evaluate", help="measure a checkpoint on the test set",
                       description="Print the test loss, accuracy and per-class accuracy of "
                                   "a checkpoint written by `layerwise train`.")
    p.add_argument("checkpoint")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--batch-size", type=int, default=512)
    return p


def _add_predict(sub):
    p = sub.add_parser("predict", help="classify image files with a checkpoint",
                       description="Classify PNG/JPEG images: each is converted to the "
                                   "model's channels and size, normalized like the training "
                                   "data, and the top class probabilities are printed.")
    p.add_argument("checkpoint")
    p.add_argument("images", nargs="+")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--invert", default="auto", choices=["auto", "yes", "no"],
                   help="invert grey levels (Fashion-MNIST shows light objects on black; "
                        "'auto' inverts images whose border is light)")
    return p


def _add_summary(sub):
    p = sub.add_parser("summary", help="print a model's layers, output shapes and parameters",
                       description="Keras-style table of a named model or a checkpoint.")
    p.add_argument("model", nargs="?", help="model name or checkpoint path")
    p.add_argument("--input-size", default=None, help="C,H,W (default 1,28,28)")
    p.add_argument("--num-classes", type=int, default=10)
    p.add_argument("--list", action="store_true", help="list the available model names")
    return p


def cmd_train(args):
    from ..train.run import train_run
    from ..train.tasks import task_for
    model = args.model
    if args.resume:
        from ..train.checkpoint import load_checkpoint
        model = load_checkpoint(args.resume).config.get("model", model)
    runner = task_for(model) or train_run
    if runner is train_run and args.lr is None:
        args.lr = 1e-3
    if getattr(args, "distributed", False):  # issue 11: an error on one rank ends all ranks
        if runner is not train_run:
            raise ValueError(f"--distributed trains the image classifiers; {model} has its "
                             f"own runner, which is not distributed yet")
        from ..distributed import abort_on_error
        with abort_on_error():
            return runner(args)
    runner(args)


def _load_for_inference(path):
    from ..train.checkpoint import load_checkpoint
    from ..train.run import build_model
    ckpt = load_checkpoint(path)
    model = build_model(ckpt.config)
    model.load_state_dict(ckpt.model_state)
    model.eval()
    return ckpt.config, model


def cmd_evaluate(args):
    from .. import nn
    from ..data import DataLoader, get_dataset
    from ..train.metrics import confusion_matrix
    from ..train.run import Normalizer
    from ..train.trainer import Trainer, predict
    config, model = _load_for_inference(args.checkpoint)
    test_set = get_dataset(config["dataset"], train=False, root=args.data_dir)
    test_set.arrays = (Normalizer(**config["normalization"])(test_set.images), test_set.labels)
    result = Trainer(model, None, nn.CrossEntropyLoss()).evaluate(
        DataLoader(test_set, args.batch_size))
    preds = predict(model, test_set.images, args.batch_size).argmax(axis=1)
    matrix = confusion_matrix(preds, test_set.labels, config["num_classes"])
    print(f"{config['model']} on {config['dataset']} test set ({len(test_set):,} images): "
          f"accuracy {result['accuracy']:.2%}, loss {result['loss']:.4f}")
    for name, row in zip(config["classes"], matrix):
        print(f"  {name:<12} {row[list(config['classes']).index(name)] / max(row.sum(), 1):7.2%}")


def load_image(path, channels, size, invert="auto"):
    """An image file as a float array (channels, size, size) in [0, 1]."""
    from PIL import Image
    with Image.open(path) as img:
        img = img.convert("L" if channels == 1 else "RGB").resize((size, size), Image.BILINEAR)
        array = np.asarray(img, dtype=np.float32) / 255.0
    array = array[None] if channels == 1 else array.transpose(2, 0, 1)
    border = np.concatenate([array[:, 0].ravel(), array[:, -1].ravel(),
                             array[:, :, 0].ravel(), array[:, :, -1].ravel()])
    if invert == "yes" or (invert == "auto" and border.mean() > 0.5):
        array = 1.0 - array
    return array


def cmd_predict(args):
    from ..autograd.factories import tensor
    from ..autograd.grad_mode import no_grad
    from ..nn.functional import softmax
    from ..train.run import Normalizer
    config, model = _load_for_inference(args.checkpoint)
    normalize = Normalizer(**config["normalization"])
    batch = np.stack([load_image(p, config["in_channels"], config["image_size"], args.invert)
                      for p in args.images])
    with no_grad():
        probs = softmax(model(tensor(normalize(batch))), dim=1).numpy()
    for path, p in zip(args.images, probs):
        top = np.argsort(-p)[:args.top_k]
        print(f"{path}: " + ", ".join(f"{config['classes'][k]} {p[k]:.1%}" for k in top))


def cmd_summary(args):
    from ..models import get_model, list_models, summary
    if args.list or not args.model:
        print("\n".join(list_models()))
        return
    size = tuple(int(s) for s in args.input_size.split(",")) if args.input_size else None
    if args.model.endswith(".safetensors"):
        config, model = _load_for_inference(args.model)
        if "in_channels" in config and "image_size" in config:
            size = size or (config["in_channels"], config["image_size"], config["image_size"])
    else:
        image = size or (1, 28, 28)
        model = get_model(args.model, num_classes=args.num_classes, in_channels=image[0],
                          image_size=image[-1])
        if not hasattr(model, "example_input"):
            size = image
    print(summary(model, size))




def register(sub):
    """Add this module's subcommands to the ``layerwise`` parser."""
    for add, func in ((_add_train, cmd_train), (_add_evaluate, cmd_evaluate),
                      (_add_predict, cmd_predict), (_add_summary, cmd_summary)):
        add(sub).set_defaults(func=func)
