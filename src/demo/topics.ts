/**
 * The research topics of the demo papers. Every paper is written from one
 * topic's vocabulary, so papers on a topic share words: search and
 * similar-papers have something real to find.
 */
export interface Topic {
  name: string;
  /** The arXiv categories its papers are filed under, the primary one first. */
  categories: readonly string[];
  /** How common the topic is, relative to the others. */
  weight: number;
  /** Lower-case keywords; each paper gets 3-6 of them. */
  keywords: readonly string[];
  /** What papers on the topic study, as noun phrases. */
  subjects: readonly string[];
  /** What they propose, as noun phrases. */
  methods: readonly string[];
  /** What a proposed method does, as a verb phrase following "that". */
  mechanisms: readonly string[];
  /** The difficulty the field faces, as a clause. */
  challenges: readonly string[];
  benchmarks: readonly string[];
}

export const TOPICS: readonly Topic[] = [
  {
    name: 'llm-reasoning',
    categories: ['cs.CL', 'cs.AI'],
    weight: 1.6,
    keywords: ['reasoning', 'large language models', 'chain-of-thought', 'mathematical reasoning', 'test-time scaling', 'reward models', 'verification'],
    subjects: [
      'multi-step mathematical reasoning',
      'chain-of-thought reasoning',
      'test-time compute scaling',
      'reasoning in large language models',
      'long-horizon logical deduction',
      'self-verification of reasoning traces',
    ],
    methods: [
      'process reward model',
      'self-consistency decoding scheme',
      'verifier-guided search',
      'reasoning distillation recipe',
      'reinforcement learning from verifiable rewards',
      'adaptive thinking budget',
    ],
    mechanisms: [
      'scores every intermediate reasoning step instead of only the final answer',
      'allocates more test-time compute to harder problems',
      'distills long chains of thought from a strong teacher into a compact student',
      'rewards the model only for answers a symbolic checker can verify',
      'prunes redundant reasoning steps without hurting accuracy',
    ],
    challenges: [
      'models often produce fluent but unfaithful chains of thought',
      'longer reasoning traces do not reliably yield better answers',
      'errors in early reasoning steps propagate to the final answer',
    ],
    benchmarks: ['GSM8K', 'MATH', 'AIME 2024', 'GPQA', 'OlympiadBench', 'ARC-Challenge'],
  },
  {
    name: 'image-generation',
    categories: ['cs.CV', 'cs.LG'],
    weight: 1.4,
    keywords: ['diffusion models', 'image generation', 'text-to-image', 'video generation', 'image editing', 'flow matching', 'generative models'],
    subjects: [
      'text-to-image generation',
      'high-resolution image synthesis',
      'instruction-based image editing',
      'text-to-video generation',
      'subject-driven personalization',
      'few-step diffusion sampling',
    ],
    methods: [
      'latent diffusion transformer',
      'rectified flow model',
      'consistency distillation scheme',
      'attention-guided editing method',
      'cascaded video diffusion model',
      'training-free guidance technique',
    ],
    mechanisms: [
      'denoises in a compressed latent space learned by a variational autoencoder',
      'straightens the sampling trajectory so that four diffusion steps suffice',
      'injects reference features through cross-attention without fine-tuning',
      'enforces temporal consistency across video frames with a motion prior',
      'aligns generated images with human preferences using a learned reward',
    ],
    challenges: [
      'sampling from diffusion models remains slow',
      'generated images often ignore parts of the prompt',
      'editing methods struggle to preserve the identity of the subject',
      'long generated videos drift and lose temporal coherence',
    ],
    benchmarks: ['MS-COCO', 'GenEval', 'DrawBench', 'ImageNet 256x256', 'VBench', 'T2I-CompBench'],
  },
  {
    name: 'reinforcement-learning',
    categories: ['cs.LG', 'cs.AI'],
    weight: 0.9,
    keywords: ['reinforcement learning', 'offline rl', 'policy optimization', 'sample efficiency', 'world models', 'exploration', 'reward shaping'],
    subjects: [
      'offline reinforcement learning',
      'sample-efficient policy learning',
      'exploration in sparse-reward environments',
      'model-based reinforcement learning',
      'multi-agent coordination',
      'visual continuous control',
    ],
    methods: [
      'conservative value estimation method',
      'latent world model',
      'temporal contrastive objective',
      'curiosity-driven exploration bonus',
      'decision transformer variant',
      'trust-region policy optimizer',
    ],
    mechanisms: [
      'learns state and action representations that predict future states',
      'penalizes value estimates for actions outside the offline dataset',
      'plans in a learned latent space instead of pixel space',
      'rewards the agent for visiting states its world model cannot yet predict',
      'reuses past experience through prioritized replay',
    ],
    challenges: [
      'sample inefficiency remains a substantial obstacle',
      'value estimates diverge on out-of-distribution actions',
      'sparse rewards make exploration difficult',
    ],
    benchmarks: ['DeepMind Control Suite', 'Atari 100k', 'D4RL', 'MuJoCo', 'Procgen', 'NetHack'],
  },
  {
    name: 'robotics',
    categories: ['cs.RO', 'cs.LG'],
    weight: 0.9,
    keywords: ['robotics', 'robot manipulation', 'embodied ai', 'imitation learning', 'vision-language-action models', 'sim-to-real', 'locomotion'],
    subjects: [
      'dexterous robot manipulation',
      'generalist robot policies',
      'legged locomotion',
      'sim-to-real transfer',
      'learning from human demonstrations',
      'mobile manipulation in homes',
    ],
    methods: [
      'vision-language-action model',
      'diffusion policy',
      'bimanual teleoperation system',
      'domain randomization pipeline',
      'hierarchical skill library',
      'tactile sensing module',
    ],
    mechanisms: [
      'maps camera images and language instructions directly to robot actions',
      'models multimodal action distributions with a denoising process',
      'collects robot demonstrations with low-cost teleoperation hardware',
      'randomizes physics and appearance in simulation so that policies transfer to real robots',
      'composes reusable robot skills to solve long-horizon tasks',
    ],
    challenges: [
      'collecting robot data at scale is expensive',
      'policies trained in simulation often fail on real robots',
      'generalizing to unseen objects and scenes remains difficult',
    ],
    benchmarks: ['LIBERO', 'CALVIN', 'RLBench', 'Open X-Embodiment', 'ManiSkill', 'real-world pick-and-place tasks'],
  },
  {
    name: 'speech-audio',
    categories: ['eess.AS', 'cs.SD', 'cs.CL'],
    weight: 0.7,
    keywords: ['speech recognition', 'text-to-speech', 'audio', 'speech', 'spoken language models', 'voice cloning', 'music generation'],
    subjects: [
      'automatic speech recognition',
      'zero-shot text-to-speech',
      'spoken dialogue',
      'music generation',
      'speech translation',
      'audio captioning',
    ],
    methods: [
      'neural audio codec',
      'speech language model',
      'streaming transducer',
      'flow-matching vocoder',
      'self-supervised speech encoder',
      'full-duplex dialogue model',
    ],
    mechanisms: [
      'tokenizes audio into discrete units that a language model can predict',
      'clones an unseen voice from a three-second speech prompt',
      'listens and speaks at the same time with sub-second latency',
      'learns speech representations from unlabeled audio',
      'generates coherent music conditioned on text and melody',
    ],
    challenges: [
      'low-resource languages lack transcribed speech',
      'spoken dialogue systems respond with noticeable latency',
      'synthesized speech still sounds unnatural in long-form audio',
    ],
    benchmarks: ['LibriSpeech', 'Common Voice', 'FLEURS', 'VCTK', 'MusicCaps', 'AudioCaps'],
  },
  {
    name: 'vision-language',
    categories: ['cs.CV', 'cs.CL'],
    weight: 1.4,
    keywords: [
      'multimodal',
      'vision-language models',
      'visual question answering',
      'image understanding',
      'video understanding',
      'visual grounding',
      'document understanding',
    ],
    subjects: [
      'multimodal large language models',
      'visual question answering',
      'long video understanding',
      'visual grounding',
      'document and chart understanding',
      'hallucination in vision-language models',
    ],
    methods: [
      'vision-language model',
      'visual instruction tuning recipe',
      'visual token compression module',
      'grounded captioning approach',
      'dynamic-resolution vision encoder',
      'multimodal preference optimization method',
    ],
    mechanisms: [
      'connects a frozen vision encoder to a language model with a lightweight projector',
      'compresses thousands of video frames into a handful of visual tokens',
      'grounds every generated phrase in an image region',
      'processes images at their native resolution and aspect ratio',
      'penalizes descriptions of objects that do not appear in the image',
    ],
    challenges: [
      'vision-language models hallucinate objects that are absent from the image',
      'long videos exceed the context window of current multimodal models',
      'fine-grained text in images is hard to read at low resolution',
    ],
    benchmarks: ['MMMU', 'MMBench', 'Video-MME', 'DocVQA', 'ChartQA', 'POPE'],
  },
  {
    name: 'efficient-inference',
    categories: ['cs.LG', 'cs.DC'],
    weight: 1.0,
    keywords: ['efficient inference', 'quantization', 'speculative decoding', 'kv cache', 'sparse attention', 'long context', 'model compression'],
    subjects: [
      'large language model inference',
      'long-context serving',
      'low-bit quantization',
      'on-device deployment',
      'mixture-of-experts serving',
      'attention efficiency',
    ],
    methods: [
      'speculative decoding scheme',
      'key-value cache compression method',
      'post-training quantization technique',
      'sparse attention kernel',
      'structured pruning approach',
      'early-exit mechanism',
    ],
    mechanisms: [
      'drafts several tokens with a small model and verifies them in parallel',
      'evicts key-value cache entries that receive little attention',
      'quantizes weights to four bits while keeping outlier channels in higher precision',
      'skips computation for tokens the model is already confident about',
      'fuses sparse attention into a single memory-efficient kernel',
    ],
    challenges: [
      'memory bandwidth, not compute, limits decoding speed',
      'the key-value cache grows linearly with context length',
      'aggressive quantization degrades accuracy on reasoning tasks',
    ],
    benchmarks: ['LongBench', 'WikiText-2', 'MT-Bench', 'RULER', 'Needle-in-a-Haystack', 'HumanEval'],
  },
  {
    name: 'agents',
    categories: ['cs.AI', 'cs.CL'],
    weight: 1.3,
    keywords: ['agents', 'llm agents', 'tool use', 'web agents', 'planning', 'multi-agent systems', 'software engineering'],
    subjects: [
      'autonomous web navigation',
      'tool-augmented language agents',
      'software engineering agents',
      'multi-agent collaboration',
      'GUI automation',
      'long-horizon task planning',
    ],
    methods: [
      'agentic framework',
      'tool-use fine-tuning recipe',
      'self-reflection loop',
      'multi-agent debate protocol',
      'GUI grounding model',
      'memory-augmented planner',
    ],
    mechanisms: [
      'decomposes tasks into subgoals and revises the plan after each observation',
      'learns when and how to call external tools from synthetic agent trajectories',
      'critiques its own failed attempts and retries with the lessons learned',
      'lets specialized agents debate before committing to an answer',
      'stores and retrieves past agent experiences to avoid repeating mistakes',
    ],
    challenges: [
      'agents fail on long tasks because small errors compound',
      'existing agent benchmarks reward memorized shortcuts over real competence',
      'tool documentation is noisy and incomplete',
    ],
    benchmarks: ['SWE-bench Verified', 'WebArena', 'GAIA', 'OSWorld', 'AgentBench', 'tau-bench'],
  },
  {
    name: '3d-vision',
    categories: ['cs.CV', 'cs.GR'],
    weight: 0.8,
    keywords: ['3d reconstruction', 'gaussian splatting', 'neural radiance fields', 'novel view synthesis', '3d generation', 'depth estimation'],
    subjects: [
      'novel view synthesis',
      'single-image 3D reconstruction',
      'text-to-3D generation',
      'dynamic scene reconstruction',
      'monocular depth estimation',
      '3D avatar reconstruction',
    ],
    methods: [
      '3D Gaussian splatting variant',
      'feed-forward reconstruction model',
      'multi-view diffusion prior',
      'neural radiance field',
      'depth foundation model',
      'deformable scene representation',
    ],
    mechanisms: [
      'represents the scene with anisotropic 3D Gaussians that rasterize in real time',
      'predicts a complete 3D model from a single image in under a second',
      'distills multi-view consistent priors from a 2D diffusion model',
      'models scene motion with a compact deformation field',
      'estimates metric depth without known camera intrinsics',
    ],
    challenges: [
      'per-scene optimization takes hours',
      'reconstructions from sparse views are blurry and inconsistent',
      'dynamic scenes break the static-world assumption of 3D reconstruction',
    ],
    benchmarks: ['Mip-NeRF 360', 'Tanks and Temples', 'ScanNet', 'Objaverse', 'DTU', 'KITTI'],
  },
];
