/** Name parts for demo authors and users; plain ASCII, so usernames derived from them are valid. */
export const FIRST_NAMES: readonly string[] = [
  'Wei', 'Jing', 'Xin', 'Yu', 'Hao', 'Lei', 'Min', 'Jun', 'Yifan', 'Zhiwei', 'Haoran', 'Ruoxi', 'Siyuan', 'Mingyu',
  'Priya', 'Arjun', 'Ananya', 'Rohan', 'Kavya', 'Vikram', 'Aditi', 'Rahul', 'Sneha', 'Jiwoo', 'Minjun', 'Seoyeon',
  'Hyunwoo', 'Yuki', 'Haruto', 'Sakura', 'Kenji', 'Anna', 'Lukas', 'Sophie', 'Jonas', 'Elena', 'Marco', 'Giulia',
  'Luca', 'Pierre', 'Camille', 'Julien', 'Maria', 'Pablo', 'Lucia', 'Diego', 'Carlos', 'Sofia', 'Mateo', 'Olivia',
  'James', 'Emily', 'Michael', 'Sarah', 'Daniel', 'Rachel', 'David', 'Laura', 'Thomas', 'Hannah', 'Omar', 'Layla',
  'Youssef', 'Amira', 'Ali', 'Fatima', 'Mehmet', 'Elif', 'Ivan', 'Natalia', 'Dmitri', 'Olga', 'Kwame', 'Amara',
  'Chidi', 'Ngozi', 'Tomasz', 'Katarzyna', 'Erik', 'Ingrid',
];

export const LAST_NAMES: readonly string[] = [
  'Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang', 'Huang', 'Zhao', 'Wu', 'Zhou', 'Xu', 'Sun', 'Ma', 'Zhu', 'Hu', 'Guo',
  'Lin', 'He', 'Gao', 'Luo', 'Sharma', 'Patel', 'Gupta', 'Singh', 'Reddy', 'Iyer', 'Nair', 'Kumar', 'Kim', 'Lee',
  'Park', 'Choi', 'Jung', 'Tanaka', 'Suzuki', 'Sato', 'Nakamura', 'Watanabe', 'Muller', 'Schmidt', 'Fischer', 'Weber',
  'Rossi', 'Bianchi', 'Romano', 'Dubois', 'Martin', 'Bernard', 'Garcia', 'Rodriguez', 'Lopez', 'Fernandez', 'Silva',
  'Santos', 'Smith', 'Johnson', 'Brown', 'Miller', 'Davis', 'Wilson', 'Anderson', 'Taylor', 'Thomas', 'Moore',
  'Hassan', 'Khan', 'Ahmed', 'Yilmaz', 'Kaya', 'Ivanov', 'Petrov', 'Novak', 'Kowalski', 'Nowak', 'Mensah', 'Okafor',
  'Adeyemi', 'Larsen', 'Andersen', 'Nielsen',
];

export interface DemoOrganization {
  /** The handle, as in "OPPO" or "NVIDIA-Research". */
  name: string;
  fullName: string;
  /** The topics it mostly publishes on. */
  topics: readonly string[];
}

/** Made-up labs, companies and universities. */
export const ORGANIZATIONS: readonly DemoOrganization[] = [
  { name: 'Aurora-AI', fullName: 'Aurora AI', topics: ['llm-reasoning', 'efficient-inference', 'agents'] },
  { name: 'KestrelLabs', fullName: 'Kestrel Labs', topics: ['image-generation', 'vision-language'] },
  { name: 'NorthStar-Research', fullName: 'NorthStar Research', topics: ['llm-reasoning', 'reinforcement-learning'] },
  { name: 'Meridian-University', fullName: 'Meridian University', topics: ['robotics', 'reinforcement-learning', '3d-vision', 'speech-audio'] },
  { name: 'BlueHarbor', fullName: 'BlueHarbor AI Lab', topics: ['vision-language', 'agents'] },
  { name: 'Cascade-Robotics', fullName: 'Cascade Robotics', topics: ['robotics', 'reinforcement-learning'] },
  { name: 'LumenVision', fullName: 'Lumen Vision', topics: ['image-generation', '3d-vision'] },
  { name: 'Ironwood-Institute', fullName: 'Ironwood Institute of Technology', topics: ['llm-reasoning', 'robotics', 'efficient-inference', '3d-vision'] },
  { name: 'Halcyon-Audio', fullName: 'Halcyon Audio Research', topics: ['speech-audio'] },
  { name: 'QuantaCompute', fullName: 'Quanta Compute', topics: ['efficient-inference'] },
  { name: 'Sequoia-NLP', fullName: 'Sequoia NLP Group', topics: ['llm-reasoning', 'agents'] },
  { name: 'OpenFjord', fullName: 'OpenFjord', topics: ['vision-language', 'llm-reasoning', 'speech-audio'] },
  { name: 'Polaris-ML', fullName: 'Polaris Machine Learning', topics: ['reinforcement-learning', 'agents'] },
  { name: 'Tessera', fullName: 'Tessera AI', topics: ['image-generation', 'vision-language'] },
  { name: 'GraniteAI', fullName: 'Granite AI', topics: ['efficient-inference', 'llm-reasoning'] },
  { name: 'Riverbend-CS', fullName: 'Riverbend University, Computer Science', topics: ['vision-language', 'speech-audio', 'image-generation', 'agents'] },
  { name: 'Solstice-Research', fullName: 'Solstice Research', topics: ['3d-vision', 'image-generation'] },
  { name: 'CobaltSystems', fullName: 'Cobalt Systems', topics: ['efficient-inference', 'agents'] },
  { name: 'NimbusAI', fullName: 'Nimbus AI', topics: ['llm-reasoning', 'vision-language'] },
  { name: 'Vireo-Lab', fullName: 'Vireo Embodied AI Lab', topics: ['robotics', '3d-vision'] },
];
