"""The five comparisons of bench/generative.py; each returns a Markdown block."""
import os
import sys
import time

import numpy as np
import torch

import layerwise as lw
from layerwise import nn, optim
from layerwise.models import RBM, VAE, Autoencoder, BernoulliRBM, dcgan as lw_dcgan
from layerwise.models.dbn import DBN
from layerwise.models.fid import ClassifierFID, train_feature_classifier
from layerwise.viz.generative import plot_image_grid

import torch_generative


def log(text):
    print("   " + text, file=sys.stderr, flush=True)


def order(n, seed, epoch):
    return np.random.default_rng([seed, epoch]).permutation(n)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


# ---------------------------------------------------------------- VAE vs PyTorch
def vae(args, x, y, test_x, test_y):
    epochs, latent, batch = args.epochs or 20, args.latent_dim or 2, 128
    lw.manual_seed(args.seed)
    ours = VAE(latent_dim=latent)
    theirs = torch_generative.copy_weights(ours, torch_generative.VAE(latent_dim=latent))
    opt_lw = optim.Adam(ours.parameters(), lr=1e-3)
    opt_t = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    walls = {"layerwise": 0.0, "torch": 0.0}
    for epoch in range(epochs):
        perm = order(len(x), args.seed, epoch)
        noise = np.random.default_rng([args.seed, epoch, 1])
        batches = [(x[perm[s:s + batch]], noise.standard_normal((len(perm[s:s + batch]), latent))
                    .astype(np.float32)) for s in range(0, len(x), batch)]
        start = time.perf_counter()
        for xb, eps in batches:
            loss = ours.losses(lw.tensor(xb), eps)["loss"]
            opt_lw.zero_grad()
            loss.backward()
            opt_lw.step()
        walls["layerwise"] += time.perf_counter() - start
        start = time.perf_counter()
        for xb, eps in batches:
            recon, kl = theirs.losses(torch.from_numpy(xb), torch.from_numpy(eps))
            opt_t.zero_grad()
            (recon + kl).backward()
            opt_t.step()
        walls["torch"] += time.perf_counter() - start
        log(f"vae epoch {epoch + 1}: layerwise loss {loss.item():.2f}, torch {(recon + kl).item():.2f}")
    ours_terms = ours.elbo(test_x, seed=123)
    eps = np.random.default_rng(123)
    totals = np.zeros(2)
    with torch.no_grad():
        for s in range(0, len(test_x), 500):
            xb = test_x[s:s + 500]
            e = eps.standard_normal((len(xb), latent)).astype(np.float32)
            totals += np.array([t.item() for t in theirs.losses(torch.from_numpy(xb),
                                                                torch.from_numpy(e))]) * len(xb)
    recon_t, kl_t = totals / len(test_x)
    elbo_t = -(recon_t + kl_t)
    z = np.random.default_rng(7).standard_normal((64, latent)).astype(np.float32)
    plot_image_grid(ours.decode(lw.tensor(z)).data, os.path.join(args.results, "vae_layerwise.png"),
                    "VAE (layerwise): decoded z ~ N(0, I)")
    with torch.no_grad():
        plot_image_grid(theirs.decode(torch.from_numpy(z)).numpy(),
                        os.path.join(args.results, "vae_torch.png"), "VAE (PyTorch): same z")
    gap = 100 * (ours_terms["elbo"] - elbo_t) / abs(elbo_t)
    return (f"### VAE (784-512-{latent}-512-784), {epochs} epochs, batch {batch}, Adam 1e-3\n\n" +
            table(("framework", "test ELBO (nats/image)", "reconstruction", "KL", "train time"), [
                ("layerwise", f"{ours_terms['elbo']:.2f}", f"{ours_terms['reconstruction']:.2f}",
                 f"{ours_terms['kl']:.2f}", f"{walls['layerwise']:.0f} s"),
                ("PyTorch", f"{elbo_t:.2f}", f"{recon_t:.2f}", f"{kl_t:.2f}",
                 f"{walls['torch']:.0f} s")]) +
            f"\n\nELBO difference {gap:+.2f}% (target: within 1%). Samples: "
            f"bench/results/vae_layerwise.png, bench/results/vae_torch.png")


# ---------------------------------------------------------------- DCGAN vs PyTorch
def dcgan(args, x, y, test_x, test_y):
    epochs, latent, batch = args.epochs or 5, args.latent_dim or 64, 64
    lw.manual_seed(args.seed)
    ours = lw_dcgan(latent)
    theirs = torch_generative.copy_weights(ours, torch_generative.dcgan(latent))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    opts = [optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))
            for m in (ours.generator, ours.discriminator)]
    topts = [torch.optim.Adam(theirs[k].parameters(), lr=2e-4, betas=(0.5, 0.999))
             for k in ("generator", "discriminator")]
    scaled, walls = x * 2 - 1, {"layerwise": 0.0, "torch": 0.0}
    for epoch in range(epochs):
        perm = order(len(x), args.seed, epoch)
        noise = np.random.default_rng([args.seed, epoch, 2])
        batches = [(scaled[perm[s:s + batch]], noise.standard_normal(
            (len(perm[s:s + batch]), latent, 1, 1)).astype(np.float32)) for s in range(0, len(x), batch)]
        start = time.perf_counter()
        for xb, z in batches:
            logs = ours.train_step(lw.tensor(xb), opts[0], opts[1], z)
        walls["layerwise"] += time.perf_counter() - start
        start = time.perf_counter()
        for xb, z in batches:
            fake = theirs["generator"](torch.from_numpy(z))
            real_l = theirs["discriminator"](torch.from_numpy(xb)).view(-1)
            fake_l = theirs["discriminator"](fake.detach()).view(-1)
            loss_d = bce(real_l, torch.ones_like(real_l)) + bce(fake_l, torch.zeros_like(fake_l))
            topts[1].zero_grad()
            loss_d.backward()
            topts[1].step()
            out = theirs["discriminator"](fake).view(-1)
            loss_g = bce(out, torch.ones_like(out))
            topts[0].zero_grad()
            loss_g.backward()
            topts[0].step()
        walls["torch"] += time.perf_counter() - start
        log(f"dcgan epoch {epoch + 1}: layerwise L_D {logs['loss_d']:.3f} L_G {logs['loss_g']:.3f}; "
            f"torch L_D {loss_d.item():.3f} L_G {loss_g.item():.3f}")
    log("training the feature classifier (seed004-cnn, 3 epochs)")
    fid = ClassifierFID(train_feature_classifier(x, y, "seed004-cnn", epochs=3, seed=args.seed))
    accuracy = fid.accuracy(test_x, test_y)
    z = np.random.default_rng(11).standard_normal((5000, latent, 1, 1)).astype(np.float32)
    ours_images = np.concatenate([ours.sample(500, z=z[s:s + 500]) for s in range(0, 5000, 500)])
    theirs["generator"].eval()
    with torch.no_grad():
        theirs_images = np.concatenate([(theirs["generator"](torch.from_numpy(z[s:s + 500])).numpy()
                                         + 1) / 2 for s in range(0, 5000, 500)]).clip(0, 1)
    real_a, real_b = test_x[:5000], test_x[5000:10000]
    rows = [("layerwise", f"{fid.distance(ours_images, real_a):.2f}", f"{walls['layerwise'] / 60:.1f} min"),
            ("PyTorch", f"{fid.distance(theirs_images, real_a):.2f}", f"{walls['torch'] / 60:.1f} min"),
            ("real vs real (floor)", f"{fid.distance(real_b, real_a):.2f}", "")]
    plot_image_grid(ours_images[:64], os.path.join(args.results, "dcgan_layerwise.png"),
                    f"DCGAN (layerwise) after {epochs} epochs")
    plot_image_grid(theirs_images[:64], os.path.join(args.results, "dcgan_torch.png"),
                    f"DCGAN (PyTorch) after {epochs} epochs, same noise")
    return (f"### DCGAN (z {latent} -> 7x7 -> 14x14 -> 28x28), {epochs} epochs, batch {batch}, "
            f"Adam 2e-4 β1 0.5, non-saturating loss\n\n" +
            table(("generator", "classifier-FID (5,000 vs 5,000 test images)", "train time"), rows) +
            f"\n\nFeature classifier: seed004-cnn trained by layerwise, test accuracy "
            f"{accuracy:.2%}; features = its 200-unit hidden layer. Samples: "
            f"bench/results/dcgan_layerwise.png, bench/results/dcgan_torch.png")


# ---------------------------------------------------------------- RBM vs scikit-learn
def rbm(args, x, y, test_x, test_y):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import BernoulliRBM as SklearnRBM
    epochs = args.epochs or 10
    binary = (x.reshape(len(x), -1) > 0.5).astype(np.float64)
    test_binary = (test_x.reshape(len(test_x), -1) > 0.5).astype(np.float64)
    hyper = dict(n_components=256, learning_rate=0.05, batch_size=64, n_iter=epochs,
                 random_state=args.seed)
    rows = []
    for name, estimator in (("layerwise BernoulliRBM", BernoulliRBM(**hyper)),
                            ("scikit-learn BernoulliRBM", SklearnRBM(**hyper))):
        start = time.perf_counter()
        estimator.fit(binary)
        wall = time.perf_counter() - start
        copy = RBM(784, 256, dtype=np.float64)
        copy.load_state_dict({"weight": estimator.components_,
                              "visible_bias": estimator.intercept_visible_,
                              "hidden_bias": estimator.intercept_hidden_})
        exact = copy.pseudo_likelihood(test_binary[:1000], exact=True).mean()
        probe = LogisticRegression(max_iter=300).fit(estimator.transform(binary[:20000]), y[:20000])
        accuracy = probe.score(estimator.transform(test_binary), test_y)
        rows.append((name, f"{estimator.score_samples(test_binary).mean():.1f}", f"{exact:.1f}",
                     f"{accuracy:.2%}", f"{wall:.0f} s"))
        log(f"{name}: {rows[-1]}")
    pixels = LogisticRegression(max_iter=300).fit(binary[:20000], y[:20000]).score(test_binary, test_y)
    return (f"### RBM (784 binarized pixels, 256 hidden), PCD-1, {epochs} epochs, batch 64, "
            f"lr 0.05\n\n" +
            table(("estimator", "test pseudo-likelihood (sklearn's estimate)",
                   "exact pseudo-likelihood (1,000 test images)", "logistic probe on features",
                   "fit time"), rows) +
            f"\n\nLogistic regression on the binarized pixels themselves: {pixels:.2%}.")


# ---------------------------------------------------------------- autoencoder vs PCA
def pca(args, x, y, test_x, test_y):
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import StandardScaler
    epochs, dim, batch = args.epochs or 20, args.latent_dim or 32, 128
    flat, test_flat = x.reshape(len(x), -1), test_x.reshape(len(test_x), -1)
    lw.manual_seed(args.seed)
    model = Autoencoder(code_dim=dim)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for epoch in range(epochs):
        perm = order(len(x), args.seed, epoch)
        for s in range(0, len(x), batch):
            loss = model.losses(lw.tensor(x[perm[s:s + batch]]))["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
        log(f"autoencoder epoch {epoch + 1}: loss {loss.item():.2f}")
    ae_wall = time.perf_counter() - start
    model.eval()
    with lw.no_grad():
        codes = np.concatenate([model.encode(lw.tensor(x[s:s + 1000])).data
                                for s in range(0, len(x), 1000)])
        test_codes = model.encode(lw.tensor(test_x)).data
        ae_recon = model(lw.tensor(test_x)).data.reshape(len(test_x), -1)
    start = time.perf_counter()
    pca_model = PCA(n_components=dim, random_state=args.seed).fit(flat)
    pca_wall = time.perf_counter() - start
    rows = []
    for name, train_codes, codes_test, recon, wall in (
            ("autoencoder", codes, test_codes, ae_recon, ae_wall),
            ("PCA", pca_model.transform(flat), pca_model.transform(test_flat),
             pca_model.inverse_transform(pca_model.transform(test_flat)), pca_wall)):
        scaler = StandardScaler().fit(train_codes)
        a, b = scaler.transform(train_codes), scaler.transform(codes_test)
        linear = LogisticRegression(max_iter=500).fit(a[:20000], y[:20000]).score(b, test_y)
        knn = KNeighborsClassifier(5).fit(a[:20000], y[:20000]).score(b, test_y)
        rows.append((name, f"{np.mean((recon - test_flat) ** 2):.4f}", f"{linear:.2%}",
                     f"{knn:.2%}", f"{wall:.0f} s"))
    return (f"### Autoencoder (784-256-{dim}-256-784, BCE, {epochs} epochs) vs PCA, "
            f"{dim} dimensions\n\n" +
            table(("codes", "test reconstruction MSE per pixel", "logistic probe", "5-NN probe",
                   "fit time"), rows))


# ---------------------------------------------------------------- DBN with 1,000 labels
def dbn(args, x, y, test_x, test_y):
    from layerwise.train import Trainer
    from layerwise.data import ArrayDataset, DataLoader
    epochs, labels = args.epochs or 10, args.labels
    binary = (x.reshape(len(x), -1) > 0.5).astype(np.float32)
    test_binary = (test_x.reshape(len(test_x), -1) > 0.5).astype(np.float32)
    lw.manual_seed(args.seed)
    net = DBN((784, 500, 250))
    start = time.perf_counter()
    history = net.pretrain(binary, epochs, lr=0.05, batch_size=64, momentum=0.5, seed=args.seed)
    pretrain_wall = time.perf_counter() - start
    log(f"pre-trained: {history[-1]}")
    pick = np.random.default_rng(args.seed).permutation(len(x))[:labels]
    rows, finetune = [], 100
    lw.manual_seed(args.seed)
    random_mlp = nn.Sequential(nn.Linear(784, 500), nn.Sigmoid(), nn.Linear(500, 250),
                               nn.Sigmoid(), nn.Linear(250, 10))  # PyTorch's default init
    for name, mlp in (("DBN pre-trained, fine-tuned", net.to_mlp(10)),
                      ("same MLP, random init", random_mlp)):
        trainer = Trainer(mlp, optim.Adam(mlp.parameters(), lr=1e-3), nn.CrossEntropyLoss())
        trainer.fit(DataLoader(ArrayDataset(binary[pick], y[pick]), 32, shuffle=True,
                               seed=args.seed), finetune)
        accuracy = trainer.evaluate(DataLoader(ArrayDataset(test_binary, test_y), 1000))["accuracy"]
        rows.append((name, f"{accuracy:.2%}"))
        log(f"{name}: {accuracy:.2%}")
    samples = net.sample(64, k=1000, generator=np.random.default_rng(args.seed))
    plot_image_grid(samples.reshape(64, 1, 28, 28), os.path.join(args.results, "dbn_samples.png"),
                    "DBN samples: 1,000 Gibbs steps in the top RBM, then down")
    return (f"### DBN 784-500-250, {labels:,} labels\n\nPre-training: CD-1, {epochs} epochs per "
            f"RBM on all {len(x):,} training images (binarized), SGD lr 0.05 momentum 0.5 "
            f"({pretrain_wall / 60:.1f} min). Fine-tuning: Adam 1e-3, batch 32, {finetune} epochs "
            f"on the same {labels:,} labelled images for both.\n\n" +
            table(("network", "test accuracy"), rows) + "\n\nSamples: bench/results/dbn_samples.png")
