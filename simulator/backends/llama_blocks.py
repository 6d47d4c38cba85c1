"""Deterministic prompt evaluation for the ``llama`` backend: fixed block boundaries, reusable prefixes.

llama.cpp's numbers for a token depend on how the tokens around it were batched: a prompt
evaluated as one batch gives slightly different logits from the same prompt evaluated as
a cached prefix plus the rest, or from tokens decoded one at a time (the generated ones).
A seeded reply could then depend on what ran in the context before.

So every prompt is evaluated in batches at the same fixed boundaries (0, B, 2B, ...),
whether or not part of it is cached. A context remembers how many of its leading tokens
it evaluated that way as whole blocks (``clean``): only those are reused, only when the
next prompt starts with them, and only up to a block boundary. The partial last block and
the generated tokens (decoded one at a time) are never reused; they are evaluated again
as the next prompt's blocks. The KV state of a reused block is then bit for bit what a
fresh evaluation of the same prompt would compute, and so is every logit after it.
"""

from __future__ import annotations

from typing import Any


def formatter(llm: Any) -> Any:
    """The chat template the model's GGUF declares (ChatML if it declares none), as a formatter.

    The same formatter llama-cpp-python's chat handler builds for the model, so that
    :func:`prompt_tokens` gives the tokens ``create_chat_completion`` evaluates.
    """
    from llama_cpp import llama_chat_format

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return llama_chat_format.format_chatml

    def text(token: int) -> str:
        return llm._model.token_get_text(token) if token != -1 else ""  # type: ignore[no-any-return]
    return llama_chat_format.Jinja2ChatFormatter(template=template, eos_token=text(llm.token_eos()),
                                                 bos_token=text(llm.token_bos()))


def prompt_tokens(llm: Any, messages: list[dict[str, str]]) -> tuple[list[int], str]:
    """The prompt's tokens as llama-cpp-python's chat handler makes them, and the template's stop text."""
    fmt = formatter(llm)(messages=messages)
    tokens = llm.tokenize(fmt.prompt.encode("utf-8"), add_bos=not getattr(fmt, "added_special", False),
                          special=True)
    end = fmt.stop if isinstance(fmt.stop, str) else (fmt.stop[0] if fmt.stop else "")
    return list(tokens), end


def common_prefix(a: Any, b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def clean_of(llm: Any, block: int) -> int:
    """How many leading tokens ``llm`` holds as whole aligned blocks of ``block`` (0 if another size made them)."""
    mark = getattr(llm, "_privy_clean", None)
    return mark[0] if mark is not None and mark[1] == block else 0


def set_clean(llm: Any, n: int, block: int) -> None:
    """Record on the context itself (weights and contexts are shared by backends) what :func:`clean_of` says."""
    llm._privy_clean = (n, block)


def eval_blocks(llm: Any, tokens: list[int], clean: int, block: int) -> tuple[int, int]:
    """Evaluate ``tokens`` in ``llm`` at the block boundaries, reusing the cached whole blocks it starts with.

    ``clean``: how many leading tokens of the context were evaluated as whole aligned
    blocks (0: reuse nothing, as after a reset). At least the last block is evaluated, so
    the context's logits are those of the prompt's last token, from a live decode.

    Returns the tokens evaluated and the new ``clean`` (the prompt's whole blocks).
    """
    keep = max(0, min(common_prefix(llm.input_ids[:min(clean, llm.n_tokens)], tokens), len(tokens) - 1))
    keep -= keep % block
    llm.n_tokens = keep  # Llama.eval drops the cache from n_tokens on, then appends
    for i in range(keep, len(tokens), block):
        llm.eval(tokens[i:i + block])
    import llama_cpp

    llama_cpp.llama_synchronize(llm._ctx.ctx)  # wait for the decode (and let llama.cpp's counters include it)
    return len(tokens) - keep, len(tokens) - len(tokens) % block
