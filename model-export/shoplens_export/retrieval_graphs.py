"""`nn.Module`s around Hugging Face's `Blip2ForImageTextRetrieval`, one per ONNX graph of a
retrieval bundle (docs/model-bundle.md, "Retrieval bundles").

Each wrapper computes exactly what `Blip2ForImageTextRetrieval.forward` computes for its branch
(`use_image_text_matching_head=False` for the features, `True` for ITM), split so that the vision
tower runs once per image: `vision.onnx` returns both the patch embeddings (ITM's input) and the
normalised query features (ITC's).
"""

import torch
from torch import nn


class RetrievalVisionGraph(nn.Module):
    """pixel_values [B,3,S,S] -> image_embeds [B,P,Hv] (vision tower output, ITM's input) and
    image_features [B,Q,D] (Q-Former queries through the vision projection, L2-normalised)."""

    def __init__(self, model):
        super().__init__()
        self.vision_model = model.vision_model
        self.qformer = model.qformer
        self.query_tokens = model.query_tokens
        self.vision_projection = model.vision_projection

    def forward(self, pixel_values):
        image_embeds = self.vision_model(pixel_values, return_dict=True).last_hidden_state
        return image_embeds, self.features(image_embeds)

    def features(self, image_embeds):
        mask = torch.ones(image_embeds.shape[:-1], dtype=torch.long, device=image_embeds.device)
        queries = self.query_tokens.expand(image_embeds.shape[0], -1, -1)
        out = self.qformer(query_embeds=queries, encoder_hidden_states=image_embeds, encoder_attention_mask=mask,
                           return_dict=True).last_hidden_state
        return nn.functional.normalize(self.vision_projection(out.to(self.vision_projection.weight.dtype)), dim=-1)


class RetrievalImageFeaturesGraph(RetrievalVisionGraph):
    """image_embeds [B,P,Hv] -> image_features [B,Q,D]: `vision.onnx` without the tower. With a
    generation bundle whose tower has the same checksum, the generation vision pass's image_embeds
    go in here, and the image needs no retrieval tower pass (docs/model-bundle.md)."""

    def forward(self, image_embeds):
        return self.features(image_embeds)


class RetrievalTextGraph(nn.Module):
    """input_ids, attention_mask [B,T] -> text_features [B,D]: the Q-Former's text-only pass, the
    [CLS] position through the text projection, L2-normalised."""

    def __init__(self, model):
        super().__init__()
        self.embeddings = model.embeddings
        self.qformer = model.qformer
        self.text_projection = model.text_projection

    def forward(self, input_ids, attention_mask):
        embeds = self.embeddings(input_ids=input_ids)
        out = self.qformer(query_embeds=embeds, query_length=0, attention_mask=attention_mask,
                           return_dict=True).last_hidden_state
        return nn.functional.normalize(self.text_projection(out[:, 0, :].to(self.text_projection.weight.dtype)), dim=-1)


class RetrievalItmGraph(nn.Module):
    """image_embeds [B,P,Hv], input_ids, attention_mask [B,T] -> itm_logits [B,2] (no match,
    match) for the pairs (image i, text i): queries and text through the Q-Former together, cross-
    attending to the image, the ITM head averaged over the query positions."""

    def __init__(self, model):
        super().__init__()
        self.embeddings = model.embeddings
        self.qformer = model.qformer
        self.query_tokens = model.query_tokens
        self.itm_head = model.itm_head

    def forward(self, image_embeds, input_ids, attention_mask):
        queries = self.query_tokens.expand(image_embeds.shape[0], -1, -1)
        num_queries = queries.shape[1]
        mask = torch.cat([torch.ones(queries.shape[:-1], dtype=attention_mask.dtype, device=attention_mask.device),
                          attention_mask], dim=1)
        embeds = self.embeddings(input_ids=input_ids, query_embeds=queries)
        # No encoder mask: Hugging Face passes one of ones (every patch visible), which is the same
        # as none, but traced it is expanded to the query+text length and no longer fits the
        # queries-only cross-attention.
        out = self.qformer(query_embeds=embeds, query_length=num_queries, attention_mask=mask,
                           encoder_hidden_states=image_embeds, return_dict=True).last_hidden_state
        return self.itm_head(out[:, :num_queries, :].to(self.itm_head.weight.dtype)).mean(dim=1)
