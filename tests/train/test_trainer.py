"""The training loop: learning, determinism, resume, NaN stop, callbacks, checkpoints."""
import csv

import numpy as np
import pytest

import layerwise as lw
from layerwise import nn, optim
from layerwise.data import ArrayDataset, DataLoader
from layerwise.io import CheckpointError
from layerwise.train import (CSVLogger, EarlyStopping, ModelCheckpoint, Trainer,
                             TrainingDiverged, evaluate, fit, load_checkpoint, predict)


def blobs(n=240, seed=0):
    """Three Gaussian blobs in 4-D: an easy, learnable classification task."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    centres = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], np.float32)
    x = centres[labels] + 0.5 * rng.standard_normal((n, 4)).astype(np.float32)
    return x, labels


def make(seed=0, dropout=0.2):
    lw.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def loaders(seed=0):
    x, y = blobs()
    train = DataLoader(ArrayDataset(x[:200], y[:200]), batch_size=16, shuffle=True, seed=seed)
    val = DataLoader(ArrayDataset(x[200:], y[200:]), batch_size=64)
    return train, val


def test_fit_learns_and_records_history():
    model, opt, sched = make()
    train, val = loaders()
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=sched)
    history = trainer.fit(train, epochs=4, val_loader=val).history
    assert len(history["loss"]) == 4 and history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.9
    assert history["lr"] == [0.01, 0.01, 0.005, 0.005]  # the lr each epoch trained with


def test_training_is_deterministic_given_the_seed():
    states = []
    for _ in range(2):
        model, opt, sched = make()
        Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=sched).fit(loaders()[0], epochs=2)
        states.append({k: v.numpy().copy() for k, v in model.state_dict().items()})
    for key in states[0]:
        np.testing.assert_array_equal(states[0][key], states[1][key])


def test_resume_reaches_the_same_weights_as_an_uninterrupted_run(tmp_path):
    model, opt, sched = make()
    Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=sched).fit(loaders()[0], epochs=4)
    expected = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    model, opt, sched = make()
    first = Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=sched)
    first.fit(loaders()[0], epochs=2)
    first.save_checkpoint(tmp_path / "mid.safetensors")
    lw.randn(1000)  # disturb the global RNG: the checkpoint must restore it

    model, opt, sched = make(seed=123)  # different init, overwritten by the checkpoint
    second = Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=sched)
    second.load_checkpoint(tmp_path / "mid.safetensors")
    assert second.start_epoch == 2
    history = second.fit(loaders()[0], epochs=4).history
    assert len(history["loss"]) == 4
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), expected[key], err_msg=key)


def test_nan_loss_stops_with_a_clear_message():
    model, opt, _ = make()
    for p in model.parameters():
        p.data[...] = np.nan
    with pytest.raises(TrainingDiverged, match=r"loss became nan at epoch 1, batch 1"):
        Trainer(model, opt, nn.CrossEntropyLoss()).fit(loaders()[0], epochs=2)


def test_checkpoint_csv_and_early_stopping_callbacks(tmp_path):
    model, opt, _ = make()
    train, val = loaders()
    callbacks = [ModelCheckpoint(tmp_path, monitor="val_accuracy"),
                 CSVLogger(tmp_path / "log.csv"),
                 EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)]
    history = Trainer(model, opt, nn.CrossEntropyLoss(), callbacks=callbacks).fit(
        train, epochs=10, val_loader=val).history
    assert len(history["loss"]) == 2  # no improvement of 10.0 after epoch 1: stop after 2
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"] and "val_accuracy" in rows[0]
    last = load_checkpoint(tmp_path / "last.safetensors")
    assert last.epoch == 2 and (tmp_path / "best.safetensors").exists()
    fresh, _, _ = make(seed=9)
    fresh.load_state_dict(last.model_state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key].numpy(), value.numpy())


def test_checkpoint_weights_load_in_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    model, opt, _ = make()
    trainer = Trainer(model, opt, nn.CrossEntropyLoss())
    trainer.fit(loaders()[0], epochs=1)
    trainer.save_checkpoint(tmp_path / "c.safetensors")
    tensors = load_file(str(tmp_path / "c.safetensors"))
    weights = {k: v for k, v in tensors.items() if not k.startswith("optimizer/")}
    tm = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                             torch.nn.Linear(16, 3))
    tm.load_state_dict(weights)
    x = blobs(5)[0]
    np.testing.assert_allclose(tm.eval()(torch.tensor(x)).detach().numpy(),
                               predict(model, x), rtol=1e-5, atol=1e-6)


def test_truncated_checkpoint_is_detected(tmp_path):
    model, opt, _ = make()
    trainer = Trainer(model, opt, nn.CrossEntropyLoss())
    path = trainer.save_checkpoint(tmp_path / "c.safetensors")
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(path)
    (tmp_path / "w.safetensors").write_bytes(b"\x10\0\0\0\0\0\0\0{}" + b" " * 14)
    with pytest.raises(CheckpointError, match="not a layerwise checkpoint"):
        load_checkpoint(tmp_path / "w.safetensors")


def test_keras_style_fit_evaluate_predict():
    x, y = blobs()
    model, _, _ = make(dropout=0.0)
    history = fit(model, (x[:200], y[:200]), epochs=3, val_data=(x[200:], y[200:]),
                  optimizer=optim.Adam(model.parameters(), lr=0.02), batch_size=20, seed=0,
                  progress=False)
    assert history.history["val_accuracy"][-1] > 0.9
    result = evaluate(model, (x[200:], y[200:]))
    assert result["accuracy"] == pytest.approx(history.history["val_accuracy"][-1])
    logits = predict(model, x[200:])
    assert logits.shape == (40, 3)
    assert np.mean(logits.argmax(1) == y[200:]) == pytest.approx(result["accuracy"])


def test_manual_pytorch_style_loop_works():
    x, y = blobs()
    model, opt, _ = make(dropout=0.0)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(3):
        for xb, yb in DataLoader(ArrayDataset(x, y), batch_size=32, shuffle=True, seed=epoch):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    assert np.mean(predict(model, x).argmax(1) == y) > 0.9
