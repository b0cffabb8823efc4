"""Training functions shaped like Hopsworks' hops-examples notebooks, ported to sparkexp with
the smallest change a hops user makes (``from hops import ...`` -> ``from sparkexp import ...``;
``spark`` as the first argument of the experiment call), plus the data they read: tiny
MNIST-like arrays the test writes into the project root (no downloads). Each trial takes about
a second on a loaded 2-core machine once the framework is imported.

Executors import this module by name (``support.frameworks``), so it sets small thread pools
before any framework is imported in a trial: TensorFlow reads these variables when it starts.
"""

from __future__ import annotations

import os

import numpy as np

# two cores shared by every test process: one intra-op and one inter-op thread per trial
for _name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")  # keep TF's native warnings: capture sees them

__all__ = ["write_mnist_like", "keras_mnist", "pytorch_mnist", "sklearn_svc", "IMAGE"]

#: side of the square images
IMAGE = 16


def write_mnist_like(root: str, *, train: int = 256, test: int = 64, seed: int = 0) -> str:
    """Write ``Resources/mnist.npz`` (x_train, y_train, x_test, y_test) under ``root``: digits
    drawn as a bright column whose position is the class, plus noise, so a small net learns it
    within one epoch."""
    rng = np.random.default_rng(seed)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, n)
        x = rng.integers(0, 60, (n, IMAGE, IMAGE)).astype(np.uint8)
        for i, label in enumerate(y):
            x[i, 2:-2, 2 + label] = 255
        return x, y

    (x_train, y_train), (x_test, y_test) = make(train), make(test)
    os.makedirs(os.path.join(root, "Resources", "mnist"), exist_ok=True)
    path = os.path.join(root, "Resources", "mnist", "mnist.npz")
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def keras_mnist(kernel, pool, dropout):
    """hops-examples' Keras evolutionary-search notebook (keras_mnist), on Keras 3."""
    import numpy as np
    import tensorflow as tf  # noqa: F401 - as in the notebook
    from tensorflow import keras
    from tensorflow.keras import backend as K
    from tensorflow.keras.callbacks import TensorBoard
    from tensorflow.keras.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
    from tensorflow.keras.models import Sequential

    from sparkexp import hdfs, tensorboard

    batch_size = 64
    num_classes = 10
    epochs = 1

    # Input image dimensions
    img_rows, img_cols = 16, 16

    # The data, from the project (the notebook downloads MNIST here)
    data = np.load(hdfs.project_path() + "Resources/mnist/mnist.npz")
    (x_train, y_train), (x_test, y_test) = (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])

    if K.image_data_format() == 'channels_first':
        x_train = x_train.reshape(x_train.shape[0], 1, img_rows, img_cols)
        x_test = x_test.reshape(x_test.shape[0], 1, img_rows, img_cols)
        input_shape = (1, img_rows, img_cols)
    else:
        x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
        x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1)
        input_shape = (img_rows, img_cols, 1)

    x_train = x_train.astype('float32')
    x_test = x_test.astype('float32')
    x_train /= 255
    x_test /= 255
    print('x_train shape:', x_train.shape)
    print(x_train.shape[0], 'train samples')
    print(x_test.shape[0], 'test samples')

    # Convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = Sequential()
    model.add(Input(shape=input_shape))
    model.add(Conv2D(8, kernel_size=(kernel, kernel), activation='relu'))
    model.add(MaxPooling2D(pool_size=(pool, pool)))
    model.add(Dropout(dropout))
    model.add(Flatten())
    model.add(Dense(32, activation='relu'))
    model.add(Dropout(dropout))
    model.add(Dense(num_classes, activation='softmax'))

    opt = keras.optimizers.Adadelta(1.0)

    model.compile(loss=keras.losses.categorical_crossentropy,
                  optimizer=opt,
                  metrics=['accuracy'])

    tb_callback = TensorBoard(log_dir=tensorboard.logdir(), histogram_freq=0,
                              write_graph=True, write_images=True)
    callbacks = [tb_callback]
    # Keras 3 saves whole models only to *.keras paths (the notebook's .h5 was Keras 2)
    callbacks.append(keras.callbacks.ModelCheckpoint(tensorboard.logdir() + '/checkpoint-{epoch}.keras'))

    model.fit(x_train, y_train,
              batch_size=batch_size,
              callbacks=callbacks,
              epochs=epochs,
              verbose=1,
              validation_data=(x_test, y_test))
    score = model.evaluate(x_test, y_test, verbose=0)
    print('Test loss:', score[0])
    print('Test accuracy:', score[1])
    return score[1]


def pytorch_mnist(lr, momentum):
    """hops-examples' PyTorch differential-evolution notebook (mnist ``wrapper``)."""
    import tempfile

    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim

    from sparkexp import hdfs, tensorboard  # noqa: F401 - as in the notebook

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()  # noqa: UP008 - as in the notebook
            self.conv1 = nn.Conv2d(1, 8, 5, 1)
            self.fc1 = nn.Linear(6*6*8, 32)
            self.fc2 = nn.Linear(32, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.max_pool2d(x, 2, 2)
            x = x.view(-1, 6*6*8)
            x = F.relu(self.fc1(x))
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    def train(model, device, train_loader, optimizer):
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            if batch_idx % 10 == 0:
                print('[{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(  # noqa: UP032 - as in the notebook
                    batch_idx * len(data), len(train_loader.dataset),
                    100. * batch_idx / len(train_loader), loss.item()))

    def test(model, device, test_loader):
        model.eval()
        test_loss = 0
        correct = 0
        with torch.no_grad():
            for data, target in test_loader:
                data, target = data.to(device), target.to(device)
                output = model(data)
                test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
                pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
                correct += pred.eq(target.view_as(pred)).sum().item()

        test_loss /= len(test_loader.dataset)

        print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(  # noqa: UP032
            test_loss, correct, len(test_loader.dataset),
            100. * correct / len(test_loader.dataset)))

        return (100. * correct / len(test_loader.dataset))

    # Training settings
    use_cuda = torch.cuda.is_available()

    torch.manual_seed(1)

    device = torch.device("cuda" if use_cuda else "cpu")

    # (the notebook copies into the executor's working directory, a YARN container's; in
    # local mode that is the driver's, so a temporary directory here)
    workdir = tempfile.mkdtemp()
    hdfs.log('----Copying dataset to Spark executor working directory----')
    hdfs.copy_to_local('Resources/mnist', workdir)
    hdfs.log('----------------------Copy finished------------------------')

    # (the notebook reads torchvision's MNIST files here)
    def loader(split, batch_size):
        data = np.load(workdir + '/mnist/mnist.npz')
        x = torch.tensor(data['x_' + split], dtype=torch.float32).unsqueeze(1) / 255
        y = torch.tensor(data['y_' + split], dtype=torch.long)
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y),
                                           batch_size=batch_size, shuffle=True)

    train_loader = loader('train', 64)
    test_loader = loader('test', 1000)

    model = Net().to(device)
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    # Single epoch
    train(model, device, train_loader, optimizer)
    acc = test(model, device, test_loader)

    # No need to save model when doing hyperparameter optimization
    torch.save(model.state_dict(), tensorboard.logdir() + "/mnist_cnn.pt")

    return acc


def sklearn_svc(C, gamma):
    """A scikit-learn SVC scored by cross-validation; warns once (Python's warnings -> stderr)."""
    import warnings

    from sklearn.datasets import make_classification
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    x, y = make_classification(n_samples=200, n_features=8, random_state=0)
    warnings.warn(f"a library warning from C={C:.6g}", stacklevel=1)  # to stderr
    return {"accuracy": float(cross_val_score(SVC(C=C, gamma=gamma), x, y, cv=3).mean()),
            "C": C}
